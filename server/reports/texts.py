"""Titles and one-sentence methods of the 18 indicators (domain.md 5), in English and Khmer."""

from __future__ import annotations

TITLES: dict[int, tuple[str, str]] = {
    1: ("Network members", "សមាជិកបណ្ដាញ"),
    2: ("Peer educators trained", "អ្នកអប់រំមិត្តភក្តិដែលបានបណ្ដុះបណ្ដាល"),
    3: ("Gatekeepers in the network and sensitised", "អ្នកមានតួនាទីសំខាន់ក្នុងបណ្ដាញ និងបានទទួលការយល់ដឹង"),
    4: ("Awareness-raising courses", "វគ្គលើកកម្ពស់ការយល់ដឹង"),
    5: ("Participants in awareness-raising courses", "អ្នកចូលរួមវគ្គលើកកម្ពស់ការយល់ដឹង"),
    6: ("Women in prostitution helped to access health services",
        "ស្ត្រីក្នុងវិស័យពេស្យាចារដែលបានជួយឱ្យទទួលសេវាសុខភាព"),
    7: ("Women helped to start a small business; children supported",
        "ស្ត្រីដែលបានជួយឱ្យចាប់ផ្ដើមអាជីវកម្មខ្នាតតូច និងកុមារដែលបានគាំទ្រ"),
    8: ("Savings books distributed", "សៀវភៅសន្សំដែលបានចែកចាយ"),
    9: ("Savers per savings group", "អ្នកសន្សំក្នុងក្រុមសន្សំនីមួយៗ"),
    10: ("Apprenticeships", "ការហ្វឹកហាត់វិជ្ជាជីវៈ"),
    11: ("Hotline reports", "របាយការណ៍តាមខ្សែទូរស័ព្ទបន្ទាន់"),
    12: ("Referrals", "ការបញ្ជូនករណី"),
    13: ("Child-protection cases", "ករណីការពារកុមារ"),
    14: ("Workplace monitoring", "ការតាមដានកន្លែងការងារ"),
    15: ("Employer negotiation", "ការចរចាជាមួយនិយោជក"),
    16: ("Meetings", "កិច្ចប្រជុំ"),
    17: ("Village data collection", "ការប្រមូលទិន្នន័យភូមិ"),
    18: ("Materials distributed", "សម្ភារៈដែលបានចែកចាយ"),
}

METHODS: dict[int, str] = {
    1: "Members joined by the period end whose status at the period end (from the status history) is "
       "neither withdrawn nor left the sector, by the report group of their sector at that date, their "
       "status and the commune of their current workplace; merged-away records and members created by "
       "rejected or training submissions are not counted.",
    2: "Distinct peer educators with an attendance at a pe_initial session on or before the period end "
       "(by the commune of their first such session); refresher sessions in the period and the distinct "
       "peer educators attending them are reported separately.",
    3: "Gatekeepers recorded (unless sensitised only after the period), and those with at least one "
       "gatekeeper_sensitisation attendance or a sensitisation date by the period end, by organisation "
       "type and commune.",
    4: "Sessions of awareness courses held in the period, by the session's target group and commune.",
    5: "For awareness sessions in the period: distinct identified members plus the anonymous headcounts, "
       "and attendances (attendance rows plus headcounts), by target group and commune; anonymous heads "
       "cannot be deduplicated across sessions, so both figures may double count.",
    6: "Distinct members (after merges) with a health referral whose outcome is service_received and whose "
       "event date is in the period, counted in the report group of her sector on that date; a referral "
       "made but not received does not count.",
    7: "Livelihood supports dated in the period, by type, report group recorded on the support and commune; "
       "supports given through child-protection cases are reported separately as children; the HIV-positive "
       "qualifier is not computable because HIV status is not stored.",
    8: "Savings books issued in the period, by holder type (member, peer educator, gatekeeper) and the "
       "report group and commune of the book's savings group.",
    9: "For each savings group open during the period: members at the period end who made at least one "
       "deposit by the period end, over members at the period end, per group, report group and commune; a "
       "positive balance at the period end is shown as a second definition to confirm with KWCD.",
    10: "Apprenticeships started in the period: distinct host workplaces, distinct women by the report group "
        "recorded on the apprenticeship, those completed, and those whose outcome is own_business.",
    11: "Referrals logged with channel police_hotline whose call date is in the period, by reporter type, "
        "category and commune, with the share reported by members and peer educators; only calls known to "
        "KWCD count.",
    12: "Referrals whose event date is in the period (not those raised only by rejected or training "
        "submissions), by category, source, status, priority and commune, with the median hours from "
        "creation to acknowledgement (all and urgent) and the outcomes of closed referrals.",
    13: "Child-protection referrals whose event date is in the period: cases, distinct identified children "
        "and anonymous alerts (which cannot be deduplicated); restricted, and shown as <5 outside.",
    14: "Workplace visits dated in the period (not rejected, not from training accounts): distinct "
        "workplaces visited, visits, visits with under-18 suspected, workplaces with a forced-labour "
        "indicator, visits with access refused, peer-educator security alerts, and workplaces whose last "
        "visit by the period end rated them red or amber, by commune.",
    15: "Visits in the period whose activities include negotiated_with_owner, and the share of those where "
        "training_allowed is yes or daytime_only.",
    16: "Meetings dated in the period by type, with attendances (identified attendance rows plus "
        "headcounts); no expected number is assumed.",
    17: "Per month of the period: villages with an accepted village report over villages in the communes of "
        "active village collectors; reports received at most 10 days after their month (proposed); people "
        "attending village_data_training sessions in the period; and the sums of the reports' aggregates.",
    18: "Sum of the quantities of distribution records dated in the period by item, recipient type and "
        "commune, plus the leaflets handed out on counted visits (n_leaflets).",
}


def title(number: int, lang: str) -> str:
    en, km = TITLES[number]
    return km if lang == "km" else en
