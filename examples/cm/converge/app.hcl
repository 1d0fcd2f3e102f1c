file "greeting" {
  destination = "/etc/greeting"
  content     = "{{param `greeting`}}"
}
