"""Operations the API and the workers share. They flush; their caller commits."""
