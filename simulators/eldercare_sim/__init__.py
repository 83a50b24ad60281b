"""Device simulators: home alarm units and care-center terminals, from one device to a whole city."""
