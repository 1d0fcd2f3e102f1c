/etc/greeting:
  file.managed:
    - source: salt://files/greeting.jinja
    - template: jinja
    - mode: '0644'
