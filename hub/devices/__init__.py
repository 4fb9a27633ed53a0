"""Device provisioning: the registry of edge devices, their broker credentials, the hub's
small CA, the edge config bundles and the locked-down Mosquitto configuration."""
