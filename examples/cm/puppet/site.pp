include motd
file { '/etc/greeting':
  content => "Built by ${facts['packer_build_name']} (${facts['packer_builder_type']}) for ${facts['role']}\n",
  mode    => '0644',
}
