BOUNDARY = "sahakumbench7f3a9c"
SUBMIT_PATH = "/v1/key/DrxiiTeHEsilGqY9va6k9Lj_lef8Pbw2OspbeLMNq6DoVOzNMOGB0qozorHZVabO/submission"
RUN_TAG = "fixed"
FRESH = false
BODY_PREFIX = [==[--sahakumbench7f3a9c
Content-Disposition: form-data; name="xml_submission_file"; filename="Workplace visit_2026-11-10.xml"
Content-Type: text/xml

<?xml version='1.0' encoding='UTF-8'?>
<data xmlns="http://www.w3.org/2002/xforms" id="workplace_visit" version="2026112901"><start>2026-11-10T19:00:00.000+07:00</start><end>2026-12-02T02:26:08.000+07:00</end><deviceid>test</deviceid><collector>BENCH01</collector><visit_date>2026-11-10</visit_date><workplace_in_list>no</workplace_in_list><workplace/><wp_new_name_km>test</wp_new_name_km><wp_new_name_latin>test</wp_new_name_latin><wp_new_type>karaoke</wp_new_type><wp_commune>1</wp_commune><wp_village>1</wp_village><wp_landmark>test</wp_landmark><wp_location>11.5564 104.9282 10 5</wp_location><visit_type>routine</visit_type><access>inside_freely</access><manager_attitude>neutral</manager_attitude><n_workers_est>12</n_workers_est><n_met>5</n_met><n_members_present>1</n_members_present><u18_suspected>no</u18_suspected><n_u18/><u18_signs/><fl_seen>none</fl_seen><fl_source/><members_affected/><live_on_site>yes</live_on_site><locked_in>no</locked_in><forced_drinking>no</forced_drinking><shift_hours>8</shift_hours><days_off>3_4</days_off><pay_type>salary</pay_type><condoms_available>yes</condoms_available><training_allowed>yes</training_allowed><activities>leaflets</activities><n_leaflets>1</n_leaflets><hotline_called>yes</hotline_called><pe_safety>safe</pe_safety><note>test</note><fl_strong/><fl_other_n/><risk_flag/><n_summary_red/><n_summary_amber/><n_summary_green/><n_pe_threatened/><meta><entity dataset="workplaces" update="1" baseVersion="" trunkVersion="" branchId="" id=""/><instanceName/><instanceID>]==]
BODY_SUFFIX = [==[</instanceID></meta></data>
--sahakumbench7f3a9c--
]==]
