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
    14: "Workplace visits dated in the period (not rejected, not from training accounts; a possible "
        "duplicate visit, the same workplace, collector and day under another instanceID, counted once "
        "until staff call it a different visit): distinct "
        "workplaces visited, visits, visits with under-18 suspected, workplaces with a forced-labour "
        "indicator, visits with access refused, peer-educator security alerts, and workplaces whose last "
        "visit by the period end rated them red or amber, by commune.",
    15: "Visits in the period whose activities include negotiated_with_owner, and the share of those where "
        "training_allowed is yes or daytime_only.",
    16: "Meetings dated in the period by type, with attendances (identified attendance rows plus "
        "headcounts); no expected number is assumed.",
    17: "Per month of the period (the month the report covers, not the day it arrived; one accepted "
        "report per village and month, a second one waits for staff as a correction and is not counted): "
        "villages with an accepted village report over villages in the communes of "
        "active village collectors; reports received at most 10 days after their month (proposed); people "
        "attending village_data_training sessions in the period; and the sums of the reports' aggregates.",
    18: "Sum of the quantities of distribution records dated in the period by item, recipient type and "
        "commune, plus the leaflets handed out on counted visits (n_leaflets).",
}


METHODS_KM: dict[int, str] = {
    1: "សមាជិកដែលបានចូលរួមមុនចុងរយៈពេល ហើយស្ថានភាពនៅចុងរយៈពេល (តាមប្រវត្តិស្ថានភាព) មិនមែនដកខ្លួន "
       "ឬចាកចេញពីវិស័យ បែងចែកតាមក្រុមរបាយការណ៍នៃវិស័យរបស់នាងនៅថ្ងៃនោះ ស្ថានភាព និងឃុំនៃកន្លែងការងារ; "
       "មិនរាប់កំណត់ត្រាដែលបានបញ្ចូលទៅកំណត់ត្រាផ្សេង និងសមាជិកដែលបង្កើតដោយការផ្ញើដែលត្រូវបានបដិសេធ ឬពីគណនីហ្វឹកហាត់។",
    2: "អ្នកអប់រំមិត្តភក្តិខុសៗគ្នា ដែលមានវត្តមានក្នុងវគ្គ pe_initial នៅ ឬមុនចុងរយៈពេល (តាមឃុំនៃវគ្គដំបូង); "
       "វគ្គរំលឹក (pe_refresher) ក្នុងរយៈពេល និងអ្នកអប់រំមិត្តភក្តិដែលចូលរួម ត្រូវរាយការណ៍ដាច់ដោយឡែក។",
    3: "អ្នកមានតួនាទីសំខាន់ដែលបានកត់ត្រា (លើកលែងតែអ្នកដែលទទួលការយល់ដឹងក្រោយរយៈពេល) និងអ្នកដែលមានវត្តមាន "
       "យ៉ាងហោចណាស់ម្ដងក្នុងវគ្គ gatekeeper_sensitisation ឬមានកាលបរិច្ឆេទទទួលការយល់ដឹង មុនចុងរយៈពេល "
       "តាមប្រភេទស្ថាប័ន និងឃុំ។",
    4: "វគ្គនៃវគ្គសិក្សាលើកកម្ពស់ការយល់ដឹង ដែលបានធ្វើក្នុងរយៈពេល តាមក្រុមគោលដៅ និងឃុំនៃវគ្គ។",
    5: "សម្រាប់វគ្គលើកកម្ពស់ការយល់ដឹងក្នុងរយៈពេល៖ សមាជិកដែលស្គាល់អត្តសញ្ញាណខុសៗគ្នា បូកចំនួនអ្នកចូលរួមអនាមិក "
       "និងវត្តមានសរុប (ជួរវត្តមាន បូកចំនួនអនាមិក) តាមក្រុមគោលដៅ និងឃុំ; អ្នកចូលរួមអនាមិកមិនអាចដកស្ទួនរវាងវគ្គបានទេ "
       "ដូច្នេះតួលេខទាំងពីរអាចរាប់ស្ទួន។",
    6: "សមាជិកខុសៗគ្នា (ក្រោយការបញ្ចូលគ្នា) ដែលមានការបញ្ជូនសុខភាពដែលលទ្ធផលគឺ service_received ហើយកាលបរិច្ឆេទ "
       "ព្រឹត្តិការណ៍ស្ថិតក្នុងរយៈពេល រាប់ក្នុងក្រុមរបាយការណ៍នៃវិស័យរបស់នាងនៅថ្ងៃនោះ; ការបញ្ជូនដែលមិនបានទទួលសេវា មិនរាប់ទេ។",
    7: "ការគាំទ្រជីវភាពដែលមានកាលបរិច្ឆេទក្នុងរយៈពេល តាមប្រភេទ ក្រុមរបាយការណ៍ដែលបានកត់ត្រា និងឃុំ; ការគាំទ្រតាមរយៈ "
       "ករណីការពារកុមារ រាយការណ៍ដាច់ដោយឡែកជាកុមារ; លក្ខណៈ \"មានមេរោគអេដស៍\" មិនអាចគណនាបានទេ ព្រោះមិនរក្សាទុក។",
    8: "សៀវភៅសន្សំដែលបានចេញក្នុងរយៈពេល តាមប្រភេទអ្នកកាន់ (សមាជិក អ្នកអប់រំមិត្តភក្តិ អ្នកមានតួនាទីសំខាន់) "
       "និងក្រុមរបាយការណ៍ និងឃុំនៃក្រុមសន្សំ។",
    9: "សម្រាប់ក្រុមសន្សំនីមួយៗដែលបើកក្នុងរយៈពេល៖ សមាជិកនៅចុងរយៈពេលដែលបានដាក់ប្រាក់យ៉ាងហោចណាស់ម្ដង មុនចុងរយៈពេល "
       "ធៀបនឹងសមាជិកនៅចុងរយៈពេល តាមក្រុម ក្រុមរបាយការណ៍ និងឃុំ; សមតុល្យវិជ្ជមាននៅចុងរយៈពេល "
       "ជានិយមន័យទីពីរ ដែលត្រូវបញ្ជាក់ជាមួយ KWCD។",
    10: "ការហ្វឹកហាត់ដែលបានចាប់ផ្ដើមក្នុងរយៈពេល៖ កន្លែងទទួលខុសៗគ្នា ស្ត្រីខុសៗគ្នាតាមក្រុមរបាយការណ៍ដែលបានកត់ត្រា "
        "ការហ្វឹកហាត់ដែលបានបញ្ចប់ និងលទ្ធផល own_business។",
    11: "ការបញ្ជូនដែលកត់ត្រាតាមឆានែល police_hotline ហើយថ្ងៃហៅស្ថិតក្នុងរយៈពេល តាមប្រភេទអ្នករាយការណ៍ ប្រភេទករណី "
        "និងឃុំ ព្រមទាំងចំណែកដែលសមាជិក និងអ្នកអប់រំមិត្តភក្តិបានរាយការណ៍; រាប់តែការហៅដែល KWCD ដឹងប៉ុណ្ណោះ។",
    12: "ការបញ្ជូនដែលកាលបរិច្ឆេទព្រឹត្តិការណ៍ស្ថិតក្នុងរយៈពេល (មិនរាប់ការបញ្ជូនដែលមកពីការផ្ញើដែលត្រូវបានបដិសេធ "
        "ឬពីគណនីហ្វឹកហាត់តែប៉ុណ្ណោះ) តាមប្រភេទ ប្រភព ស្ថានភាព អាទិភាព និងឃុំ ព្រមទាំងមធ្យមភាគម៉ោង (median) "
        "ពីការបង្កើតដល់ការទទួលស្គាល់ (ទាំងអស់ និងបន្ទាន់) និងលទ្ធផលនៃការបញ្ជូនដែលបានបិទ។",
    13: "ការបញ្ជូនការពារកុមារដែលកាលបរិច្ឆេទព្រឹត្តិការណ៍ស្ថិតក្នុងរយៈពេល៖ ករណី កុមារដែលស្គាល់អត្តសញ្ញាណខុសៗគ្នា "
        "និងការជូនដំណឹងអនាមិក (មិនអាចដកស្ទួនបាន); កម្រិតការមើល និងបង្ហាញជា <5 ក្នុងកំណែសម្រាប់ខាងក្រៅ។",
    14: "ការចុះកន្លែងការងារក្នុងរយៈពេល (មិនបដិសេធ មិនមែនពីគណនីហ្វឹកហាត់; ការចុះដែលអាចស្ទួន គឺកន្លែងដដែល "
        "អ្នកប្រមូលដដែល ថ្ងៃដដែល តែ instanceID ផ្សេង រាប់តែម្ដង រហូតដល់បុគ្គលិកសម្រេចថាជាការចុះពីរផ្សេងគ្នា)៖ "
        "កន្លែងខុសៗគ្នាដែលបានចុះ ចំនួនការចុះ "
        "ការចុះដែលសង្ស័យមានអាយុក្រោម ១៨ កន្លែងដែលមានសូចនាករពលកម្មដោយបង្ខំ ការចុះដែលគេមិនឱ្យចូល "
        "ការជូនដំណឹងសុវត្ថិភាពអ្នកអប់រំមិត្តភក្តិ និងកន្លែងដែលការចុះចុងក្រោយមុនចុងរយៈពេលវាយតម្លៃថាក្រហម ឬលឿង តាមឃុំ។",
    15: "ការចុះក្នុងរយៈពេលដែលសកម្មភាពរួមមាន negotiated_with_owner និងចំណែកនៃការចុះទាំងនោះដែល training_allowed "
        "គឺ yes ឬ daytime_only។",
    16: "កិច្ចប្រជុំដែលមានកាលបរិច្ឆេទក្នុងរយៈពេល តាមប្រភេទ ព្រមទាំងវត្តមាន (ជួរវត្តមាន បូកចំនួនអនាមិក); "
        "មិនសន្មតចំនួនដែលរំពឹងទុកទេ។",
    17: "ក្នុងខែនីមួយៗនៃរយៈពេល (ខែដែលរបាយការណ៍និយាយអំពី មិនមែនថ្ងៃដែលបានទទួល; របាយការណ៍មួយក្នុងមួយភូមិ "
        "មួយខែ; របាយការណ៍ទីពីររង់ចាំបុគ្គលិកសម្រេចជាការកែតម្រូវ ហើយមិនរាប់)៖ "
        "ភូមិដែលមានរបាយការណ៍ភូមិដែលបានទទួលយក ធៀបនឹងភូមិក្នុងឃុំរបស់អ្នកប្រមូលទិន្នន័យភូមិ "
        "សកម្ម; របាយការណ៍ដែលទទួលបានក្នុងរយៈពេល ១០ ថ្ងៃក្រោយចុងខែ (ស្នើ); អ្នកចូលរួមវគ្គ village_data_training "
        "ក្នុងរយៈពេល; និងផលបូកនៃទិន្នន័យសរុបក្នុងរបាយការណ៍។",
    18: "ផលបូកបរិមាណនៃកំណត់ត្រាចែកចាយក្នុងរយៈពេល តាមប្រភេទសម្ភារៈ ប្រភេទអ្នកទទួល និងឃុំ បូកខិត្តប័ណ្ណដែលបានចែក "
        "ក្នុងការចុះកន្លែងការងារ (n_leaflets)។",
}


# What each figure counts, in Khmer (the English label is the key).
LABELS_KM: dict[str, str] = {
    "network members at period end": "សមាជិកបណ្ដាញនៅចុងរយៈពេល",
    "peer educators trained (initial training by period end)": "អ្នកអប់រំមិត្តភក្តិដែលបានបណ្ដុះបណ្ដាលដំបូង (ដល់ចុងរយៈពេល)",
    "peer educators trained in the period": "អ្នកអប់រំមិត្តភក្តិដែលបានបណ្ដុះបណ្ដាលក្នុងរយៈពេល",
    "refresher sessions": "វគ្គរំលឹក",
    "peer educators at refresher sessions": "អ្នកអប់រំមិត្តភក្តិក្នុងវគ្គរំលឹក",
    "gatekeepers in the network": "អ្នកមានតួនាទីសំខាន់ក្នុងបណ្ដាញ",
    "gatekeepers sensitised": "អ្នកមានតួនាទីសំខាន់ដែលបានទទួលការយល់ដឹង",
    "awareness sessions held": "វគ្គលើកកម្ពស់ការយល់ដឹងដែលបានធ្វើ",
    "participants: distinct identified members + anonymous headcount":
        "អ្នកចូលរួម៖ សមាជិកខុសៗគ្នា + ចំនួនអនាមិក",
    "attendances: identified attendance rows + anonymous headcount": "វត្តមាន៖ ជួរវត្តមាន + ចំនួនអនាមិក",
    "women in prostitution who received a health service": "ស្ត្រីក្នុងវិស័យពេស្យាចារដែលបានទទួលសេវាសុខភាព",
    "livelihood supports given": "ការគាំទ្រជីវភាពដែលបានផ្ដល់",
    "children supported (child-protection cases)": "កុមារដែលបានគាំទ្រ (ករណីការពារកុមារ)",
    "savings books issued": "សៀវភៅសន្សំដែលបានចេញ",
    "savings groups": "ក្រុមសន្សំ",
    "members at period end": "សមាជិកនៅចុងរយៈពេល",
    "savers: members with at least one deposit by period end": "អ្នកសន្សំ៖ សមាជិកដែលបានដាក់ប្រាក់យ៉ាងហោចណាស់ម្ដង",
    "share of members who saved (%)": "ភាគរយសមាជិកដែលបានសន្សំ (%)",
    "members with a balance above 0 at period end (to confirm with KWCD)":
        "សមាជិកដែលមានសមតុល្យលើស ០ នៅចុងរយៈពេល (ត្រូវបញ្ជាក់ជាមួយ KWCD)",
    "host workplaces": "កន្លែងទទួលហ្វឹកហាត់",
    "women in apprenticeships (distinct)": "ស្ត្រីក្នុងការហ្វឹកហាត់ (ខុសៗគ្នា)",
    "apprenticeships completed": "ការហ្វឹកហាត់ដែលបានបញ្ចប់",
    "businesses started": "អាជីវកម្មដែលបានចាប់ផ្ដើម",
    "hotline reports known to KWCD": "របាយការណ៍តាមខ្សែទូរស័ព្ទបន្ទាន់ដែល KWCD ដឹង",
    "share reported by members and peer educators (%)": "ភាគរយដែលរាយការណ៍ដោយសមាជិក និងអ្នកអប់រំមិត្តភក្តិ (%)",
    "referrals": "ការបញ្ជូន",
    "median hours from creation to acknowledgement": "ម៉ោងមធ្យម (median) ពីការបង្កើតដល់ការទទួលស្គាល់",
    "closed referrals": "ការបញ្ជូនដែលបានបិទ",
    "child-protection cases": "ករណីការពារកុមារ",
    "distinct identified children": "កុមារដែលស្គាល់អត្តសញ្ញាណ (ខុសៗគ្នា)",
    "anonymous alerts (cannot be deduplicated)": "ការជូនដំណឹងអនាមិក (មិនអាចដកស្ទួនបាន)",
    "visits": "ការចុះកន្លែងការងារ",
    "visits with under-18 suspected": "ការចុះដែលសង្ស័យមានអាយុក្រោម ១៨",
    "visits with access refused": "ការចុះដែលគេមិនឱ្យចូល",
    "peer-educator security alerts (threatened)": "ការជូនដំណឹងសុវត្ថិភាពអ្នកអប់រំមិត្តភក្តិ (ត្រូវគេគំរាម)",
    "workplaces monitored": "កន្លែងការងារដែលបានតាមដាន",
    "workplaces with any forced-labour indicator": "កន្លែងការងារដែលមានសូចនាករពលកម្មដោយបង្ខំ",
    "workplaces red at period end": "កន្លែងការងារពណ៌ក្រហមនៅចុងរយៈពេល",
    "workplaces amber at period end": "កន្លែងការងារពណ៌លឿងនៅចុងរយៈពេល",
    "visits where staff negotiated with the owner": "ការចុះដែលបានពិភាក្សាជាមួយម្ចាស់",
    "of those, visits where training was allowed": "ក្នុងនោះ ការចុះដែលម្ចាស់អនុញ្ញាតឱ្យចូលរៀន",
    "share where training was allowed (%)": "ភាគរយដែលម្ចាស់អនុញ្ញាតឱ្យចូលរៀន (%)",
    "meetings held": "កិច្ចប្រជុំដែលបានធ្វើ",
    "meeting attendances (identified + headcount)": "វត្តមានក្នុងកិច្ចប្រជុំ (ស្គាល់អត្តសញ្ញាណ + ចំនួនអនាមិក)",
    "villages assigned to village collectors": "ភូមិដែលបានចាត់ឱ្យអ្នកប្រមូលទិន្នន័យភូមិ",
    "villages reporting": "ភូមិដែលបានរាយការណ៍",
    "completeness: villages reporting / villages assigned (%)": "ភាពពេញលេញ៖ ភូមិរាយការណ៍ / ភូមិដែលបានចាត់ (%)",
    "reports received on time (at most 10 days after the month)": "របាយការណ៍ទាន់ពេល (មិនលើស ១០ ថ្ងៃក្រោយខែ)",
    "on-time rate (%)": "អត្រាទាន់ពេល (%)",
    "village reports": "របាយការណ៍ភូមិ",
    "village chiefs and councillors trained (village data training)":
        "មេភូមិ និងក្រុមប្រឹក្សាដែលបានបណ្ដុះបណ្ដាល (ការប្រមូលទិន្នន័យភូមិ)",
    "women 15-24 who left": "ស្ត្រីអាយុ ១៥-២៤ ឆ្នាំដែលបានចាកចេញ",
    "under-18s who left": "អ្នកអាយុក្រោម ១៨ ដែលបានចាកចេញ",
    "returnees needing help": "អ្នកត្រឡប់មកវិញដែលត្រូវការជំនួយ",
    "new venues": "កន្លែងកម្សាន្តថ្មី",
    "materials distributed (staff records)": "សម្ភារៈដែលបានចែកចាយ (កំណត់ត្រាបុគ្គលិក)",
    "leaflets handed out on visits (n_leaflets)": "ខិត្តប័ណ្ណដែលបានចែកពេលចុះកន្លែងការងារ (n_leaflets)",
    "possible duplicate visits pending (counted once)": "ការចុះដែលអាចស្ទួន កំពុងរង់ចាំការសម្រេច (រាប់តែម្ដង)",
    "village-report corrections pending (not counted)": "ការកែតម្រូវរបាយការណ៍ភូមិ កំពុងរង់ចាំ (មិនរាប់)",
}


def label(text: str, lang: str) -> str:
    return LABELS_KM.get(text, text) if lang == "km" else text


def title(number: int, lang: str) -> str:
    en, km = TITLES[number]
    return km if lang == "km" else en


def method(number: int, lang: str) -> str:
    return METHODS_KM[number] if lang == "km" else METHODS[number]
