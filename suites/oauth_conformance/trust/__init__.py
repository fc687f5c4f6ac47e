"""What a target must trust to be tested on ID-JAG and client ID metadata documents: the fixture
host that serves documents and the test IdP's keys (:mod:`.host`), the TEST-ONLY keys
(:mod:`.keys`) and the trust kit that ``oauth-conformance trust`` prints (:mod:`.kit`)."""
