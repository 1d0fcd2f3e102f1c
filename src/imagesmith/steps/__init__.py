"""Steps shared by builders: download, HTTP server, checksum, SSH connect (connect.py), provision (provision.py)."""
