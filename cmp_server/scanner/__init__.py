"""The scanner: what a site really does (cookies, storage, requests, fingerprinting) in a real
browser, before a choice, after refusal and after acceptance, against what it declares."""
