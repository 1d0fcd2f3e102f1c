"""The amazon builders (amazon-ebs so far), tested against moto's server on 127.0.0.1."""
