"""Volunteers at the doors (红马甲): teams, the day's shifts and sign-ups, each team's round, the
volunteer's phone round and the service record. The volunteers themselves (registration, approval,
health declarations) are households' (households.volunteers)."""
