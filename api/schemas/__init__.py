"""Response and request bodies: pydantic models, never ORM objects."""
