from bridgehub.cli import app

app(prog_name="bridgehub")
