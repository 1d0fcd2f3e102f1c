@echo off
echo batch says %GREETING%
exit /b 0
