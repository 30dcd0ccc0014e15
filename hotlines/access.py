"""Scope registrations of hotline models (see households.access)."""

from hotlines.models import Call, CheckIn, CheckInCadence, Ticket, TicketEvent
from households.access import register

_HOUSEHOLD_COMMUNITY = "household__building__compound__community"

# A call belongs to the hotline's district; community staff see the calls of their own households.
register(Call, district="district", community=_HOUSEHOLD_COMMUNITY, household="household")
register(Ticket, community="community", household="household")
register(TicketEvent, community="ticket__community", household="ticket__household")
register(CheckIn, community=_HOUSEHOLD_COMMUNITY, household="household")
register(CheckInCadence, community=_HOUSEHOLD_COMMUNITY, household="household")
