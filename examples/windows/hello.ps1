Write-Output "hello from $env:GREETING on build $env:PACKER_BUILD_NAME"
exit 0
