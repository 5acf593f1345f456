"""One-public exports (一公开): inspection results published on arrival."""
