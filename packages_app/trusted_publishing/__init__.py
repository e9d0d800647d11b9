"""Trusted publishing: a CI job exchanges its OIDC identity token for a short-lived upload token.

``claims``: what each kind of publisher requires of a token; ``verify``: the token's signature,
issuer, audience, times and single use; ``service``: finding the publisher and minting the
upload token; ``views``: the exchange endpoints, in the shapes PyPI's clients speak.
"""
