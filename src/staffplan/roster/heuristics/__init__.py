"""Starts, improvements and bounds around the CP-SAT solve: greedy starts, best responses,
simulated annealing over whole shifts, large-neighbourhood search, column generation and the LP
relaxation.
"""
