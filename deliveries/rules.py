"""Who may do what in deliveries (households.permissions): declared here, nowhere else."""

from households.models import Role
from households.permissions import rule

CYCLES = rule("deliveries.cycles", Role.TASKFORCE, Role.OFFICE, Role.WORKER, Role.ADMIN)
CLOSE_CYCLE = rule("deliveries.close_cycle", Role.TASKFORCE, Role.ADMIN)
LEVEL_DAYS = rule("deliveries.level_days", Role.TASKFORCE, Role.OFFICE, Role.ADMIN)
PRINT = rule("deliveries.print", Role.SUPPLIER, Role.OFFICE, Role.WORKER, Role.TASKFORCE, Role.ADMIN)
# Door lists for one's own round on the round page (the worker, or someone standing in).
DOOR_LISTS = rule("deliveries.door_lists", Role.WORKER, Role.TASKFORCE, Role.ADMIN)
SCAN = rule("deliveries.scan", Role.WORKER, Role.OFFICE, Role.OPERATOR, Role.TASKFORCE, Role.ADMIN, Role.VOLUNTEER)
# Mark doors delivered or not (a worker their own community's packages, within scope).
DOORS = rule("deliveries.doors", Role.WORKER, Role.OFFICE, Role.TASKFORCE, Role.ADMIN, Role.VOLUNTEER)
# Confirm a consignment at a hop: the office receives from suppliers; the community receives
# from the office and carries to its compounds. Task forces and administrators may stand in.
RECEIVE_FROM_SUPPLIER = rule("deliveries.receive_from_supplier", Role.OFFICE, Role.TASKFORCE, Role.ADMIN)
RECEIVE_FROM_OFFICE = rule("deliveries.receive_from_office", Role.WORKER, Role.TASKFORCE, Role.ADMIN)
RECEIVE_AT_COMPOUND = rule("deliveries.receive_at_compound", Role.WORKER, Role.TASKFORCE, Role.ADMIN)
RECEIVING = rule("deliveries.receiving", Role.OFFICE, Role.WORKER, Role.TASKFORCE, Role.ADMIN)
RECONCILE = rule("deliveries.reconcile", Role.TASKFORCE, Role.OFFICE, Role.WORKER, Role.ADMIN)
COMPLETE_CYCLE = rule("deliveries.complete_cycle", Role.TASKFORCE, Role.ADMIN)
MY_PACKAGES = rule("deliveries.my_packages", Role.RESIDENT)
COVERAGE = rule("deliveries.coverage", Role.WORKER, Role.OFFICE, Role.TASKFORCE, Role.ADMIN)
# Printed lists by kind: suppliers their pick lists only, offices their manifests, community
# workers their community's lists, task forces and administrators everything in their scope.
LISTS_SUPPLIER = rule("deliveries.lists_supplier", Role.SUPPLIER, Role.TASKFORCE, Role.ADMIN)
LISTS_OFFICE = rule("deliveries.lists_office", Role.OFFICE, Role.TASKFORCE, Role.ADMIN)
LISTS_COMMUNITY = rule("deliveries.lists_community", Role.WORKER, Role.TASKFORCE, Role.ADMIN)
# The round in the navigation: the community worker's own work (others open it from a cycle).
ROUND = rule("deliveries.round", Role.WORKER, Role.ADMIN)
# Django's admin: printed lists (suppliers see their own pick lists) and the custody trail to look at.
ADMIN_LOOK_LISTS = rule(
    "deliveries.admin_look_lists", Role.WORKER, Role.OFFICE, Role.TASKFORCE, Role.SUPPLIER, Role.ADMIN
)
ADMIN_LOOK = rule("deliveries.admin_look", Role.WORKER, Role.OFFICE, Role.OPERATOR, Role.TASKFORCE, Role.ADMIN)
# Volunteers: the worker forms teams, sets shifts, splits and watches the rounds; a volunteer signs
# up for shifts and carries its team's round.
TEAMS = rule("deliveries.teams", Role.WORKER, Role.ADMIN)
VOLUNTEER_ROUND = rule("deliveries.volunteer_round", Role.VOLUNTEER)
SERVICE_RECORD = rule("deliveries.service_record", Role.WORKER, Role.TASKFORCE, Role.ADMIN)
# Phone numbers in full on the round (a volunteer sees them masked, with a button to call).
FULL_PHONES = rule("deliveries.full_phones", Role.WORKER, Role.OFFICE, Role.TASKFORCE, Role.ADMIN)
# Cash collected at the doors: the community's worker sees each person's sheet and confirms the handover.
CASH = rule("deliveries.cash", Role.WORKER, Role.ADMIN)
# A cycle's money statement: suppliers their own goods, the rest their scope's.
STATEMENTS = rule("deliveries.statements", Role.SUPPLIER, Role.WORKER, Role.OFFICE, Role.TASKFORCE, Role.ADMIN)
