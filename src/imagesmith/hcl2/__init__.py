"""HCL2 for imagesmith: native syntax and JSON syntax, cty-like values, the function library, and
Packer's blocks — written from HCL's specifications, checked against Go HCL.

Layers, bottom up:

- ``source``, ``diagnostics``: positions (line, column in grapheme clusters, byte) and located problems
  with Go HCL's summaries; :class:`~imagesmith.hcl2.diagnostics.HCLError` carries them to the CLI.
- ``scanner``, ``peeker``, ``parser*``, ``template_tree``, ``ast``: native syntax to a tree
  (:func:`~imagesmith.hcl2.parser.parse_config`, ``parse_expression``, ``parse_template``).
- ``json_parser``, ``json_body``: HCL JSON syntax; ``body``: schema-driven access common to both;
  ``dynblock``: ``dynamic`` blocks.
- ``types``, ``numbers``, ``values``, ``convert``, ``operators``, ``traversal``: cty's type system, 512-bit
  numbers, null/unknown values, sensitive marks, conversions and unification.
- ``evaluator*``: expressions to values in an :class:`~imagesmith.hcl2.evaluator.EvalContext`;
  ``function``, ``functions``: the function library; ``typeexpr``: type constraints.
- ``hcldec``, ``hcldec_cli``: the ``hcldec`` contract, for HCL's specsuite.
- ``packer``: Packer's ``packer``/``variable``/``locals``/``source``/``build`` blocks as a model
  (not yet used by the build path).
"""
