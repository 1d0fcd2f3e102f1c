"""The build farm: ``imagesmith build -executor=celery+redis://...`` runs each build on a worker.

Celery (with a Redis broker) only routes and delivers work; everything that must hold for a build
to run exactly once, stream its output and report its result lives in Redis keys of imagesmith's
own (:mod:`imagesmith.farm.board`). Nothing here is imported unless ``-executor`` or the ``worker``
command is used; Celery is imported only by :mod:`imagesmith.farm.app`. See docs/farm.md.
"""
