"""Face enrolment: residents' encodings, encrypted at rest, loaded into the match index."""
