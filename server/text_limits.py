"""The longest text, in characters, that the API takes in each kind of free-text field.

Input serializers set these as ``max_length``, so they show in the OpenAPI schema as
``maxLength``; the models' text columns stay unbounded. Fields whose column has a length of
its own (group, circuit and release names) use that instead.
"""

# Names and titles without a column length of their own.
NAME = 200
# Project, group, circuit and network descriptions; release notes; review comments.
DESCRIPTION = 20_000
# Long-form markdown: comment bodies and hypothesis text.
BODY = 50_000
# Short notes: on an assignment, a circuit node's role, a universality link and its review.
NOTE = 2_000
# A unit address ("mixed3b:379") or other identifier typed by hand.
ADDRESS = 220
# Sign-in: Django's username length, and a password length no hasher should have to chew past.
USERNAME = 150
PASSWORD = 4_096
