-- wrk script: POST a filled workplace_visit the way Collect does (multipart, XML part named
-- xml_submission_file). The harness (bench/wrk_intake.py) writes body.lua beside this file with
-- BODY_PREFIX / BODY_SUFFIX (the XML split at its instanceID), BOUNDARY, SUBMIT_PATH, RUN_TAG and
-- FRESH (true: a new instanceID every request; false: the same bytes every time = resends).
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "body.lua")

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  bad = 0
  headers = {
    ["Content-Type"] = "multipart/form-data; boundary=" .. BOUNDARY,
    ["X-OpenRosa-Version"] = "1.0",
  }
  fixed = BODY_PREFIX .. "uuid:" .. RUN_TAG .. "-resend" .. BODY_SUFFIX
end

function request()
  if not FRESH then
    return wrk.format("POST", SUBMIT_PATH, headers, fixed)
  end
  counter = counter + 1
  local id = string.format("uuid:%s-%04x-4000-8000-%012x", RUN_TAG, tid, counter)
  return wrk.format("POST", SUBMIT_PATH, headers, BODY_PREFIX .. id .. BODY_SUFFIX)
end

function response(status, headers, body)
  if status ~= 201 then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, t in ipairs(threads) do
    bad_total = bad_total + t:get("bad")
  end
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
      .. '"not_201": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), bad_total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
