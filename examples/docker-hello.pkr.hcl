# The HCL2 twin of docker-hello.json: the same image, built from HCL2.
variable "base_image" {
  type    = string
  default = "imagesmith-test/busybox:latest"
}

variable "greeting" {
  type    = string
  default = "hello"
}

source "docker" "hello" {
  image  = var.base_image
  pull   = false
  commit = true
  changes = [
    "ENV GREETING=${var.greeting}",
    "WORKDIR /srv/www",
    "LABEL org.opencontainers.image.title=docker-hello",
    "ENTRYPOINT [\"/bin/sh\", \"-c\"]",
    "CMD [\"cat /etc/motd; ls /srv/www\"]",
  ]
}

build {
  sources = ["source.docker.hello"]

  provisioner "shell" {
    inline           = ["mkdir -p /srv/www", "echo \"$GREETING from ${source.type}\" > /srv/www/greeting.txt"]
    environment_vars = ["GREETING=${var.greeting}"]
  }

  provisioner "file" {
    source      = "${path.root}/docker-hello-files/"
    destination = "/srv/www"
  }

  provisioner "file" {
    source      = "${path.root}/docker-hello-files/motd"
    destination = "/etc/motd"
  }

  post-processor "docker-tag" {
    repository = "imagesmith-example/docker-hello"
    tags       = ["latest"]
  }
}
