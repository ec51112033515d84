"""DoorPass server: the Litestar app, its domains and its database."""
