"""The HTTP layer: translates Kismet's REST API into calls on the service, and back."""
