"""Server processes: serve, the worker, migrations and key admin. Thin entry points that build
settings once and pass them down."""
