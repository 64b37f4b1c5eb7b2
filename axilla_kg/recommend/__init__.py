"""Answers: the compiled classifier held equal to the reasoner, recommendations for a case,
batches of cases, audits of orders, the dose calculator and the front door's cached views."""
