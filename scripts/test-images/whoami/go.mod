module homelab.invalid/test-images/whoami

go 1.22
