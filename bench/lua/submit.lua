-- wrk script: POST a filled workplace_visit the way Collect does (multipart, XML part named
-- xml_submission_file, a new random boundary per request like OkHttp). The harness
-- (bench/wrk_intake.py) writes body.lua beside this file: PART_HEAD, XML_PREFIX / XML_SUFFIX
-- (the XML split at its instanceID), SUBMIT_PATH, RUN_TAG and FRESH (true: a new instanceID
-- every request; false: the same instance every time = identical resends).
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
  math.randomseed(os.time() * 1000 + tid)
end

local function body(instance_id)
  local boundary = string.format("%08x-%04x-%04x-%012x", math.random(0, 0x7fffffff),
    math.random(0, 0xffff), math.random(0, 0xffff), math.random(0, 0x7fffffff))
  return "multipart/form-data; boundary=" .. boundary,
    "--" .. boundary .. PART_HEAD .. XML_PREFIX .. instance_id .. XML_SUFFIX
      .. "\r\n--" .. boundary .. "--\r\n"
end

function request()
  counter = counter + 1
  local id
  if FRESH then
    id = string.format("uuid:%s-%04x-4000-8000-%012x", RUN_TAG, tid, counter)
  else
    id = string.format("uuid:%s-0000-4000-8000-000000000000", RUN_TAG)
  end
  local content_type, payload = body(id)
  return wrk.format("POST", SUBMIT_PATH, {
    ["Content-Type"] = content_type,
    ["X-OpenRosa-Version"] = "1.0",
  }, payload)
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
