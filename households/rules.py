"""Who may do what in households (households.permissions): declared here, nowhere else."""

from households.models import Role
from households.permissions import rule

ACCOUNT = rule("households.account", *Role.values)
RESIDENT = rule("households.resident", Role.RESIDENT)
STAFF = rule("households.staff", Role.WORKER, Role.OFFICE, Role.OPERATOR, Role.TASKFORCE, Role.ADMIN)
# The list of communities on the home page: everyone above a single community.
COMMUNITIES = rule("households.communities", Role.OFFICE, Role.OPERATOR, Role.TASKFORCE, Role.ADMIN)
# Registrations wait for the community's worker; the care ledger is the community's.
REGISTRATIONS = rule("households.registrations", Role.WORKER, Role.ADMIN)
LEVEL_CHANGE = rule("households.level_change", Role.OFFICE, Role.TASKFORCE, Role.ADMIN)
CASE_REPORTS = rule("households.case_reports", Role.WORKER, Role.OFFICE, Role.TASKFORCE, Role.ADMIN)
IMPORT = rule("households.import", Role.WORKER, Role.OFFICE, Role.ADMIN)
SCHEDULE = rule("households.schedule", Role.TASKFORCE, Role.ADMIN)
# Volunteers: the worker registers, approves and refuses them; a volunteer declares its health.
VOLUNTEERS = rule("households.volunteers", Role.WORKER, Role.ADMIN)
VOLUNTEER = rule("households.volunteer", Role.VOLUNTEER)
DASHBOARD = rule("households.dashboard", Role.TASKFORCE, Role.OFFICE, Role.WORKER, Role.ADMIN)
# Django's admin (households.admin.ScopedAdmin): who may look at, and who may edit, each model's rows
# (which rows is households.access's business). Administrators may do everything.
ADMIN_LOOK = rule("households.admin_look", Role.WORKER, Role.OFFICE, Role.OPERATOR, Role.TASKFORCE, Role.ADMIN)
ADMIN_ONLY = rule("households.admin_only", Role.ADMIN)
ADMIN_EDIT_PLACES = rule("households.admin_edit_places", Role.OFFICE, Role.ADMIN)
ADMIN_EDIT_BUILDINGS = rule("households.admin_edit_buildings", Role.WORKER, Role.OFFICE, Role.ADMIN)
ADMIN_EDIT_HOUSEHOLDS = rule("households.admin_edit_households", Role.WORKER, Role.ADMIN)
