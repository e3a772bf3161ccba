"""Evaluation: question sets, answer metrics and the judge, iterated runs over a set, run folders and their reports."""
