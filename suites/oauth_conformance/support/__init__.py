"""What the spec suites share: a client's view of the target (:mod:`.flows`), test clients
(:mod:`.clients`), authorization attempts through the consent driver (:mod:`.attempts`), reusable
checks (:mod:`.checks`), registration helpers, JWT minting (:mod:`.jwts`), the JWT bearer and
metadata document fixtures, and resource metadata discovery. Spec packages import from here,
never from each other."""
