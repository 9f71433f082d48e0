-- llm.tune.storage: the SQLite schema and queries of tune studies (a file, or ':memory:' for a study without
-- storage), over tune.sqlite (Sources/LLMLua/Bindings/tune). Every change is one transaction
-- (BEGIN IMMEDIATE ... COMMIT), in WAL mode: a process killed at any point leaves the last committed state,
-- so finished trials are never lost; a trial left 'running' by a dead process is marked failed by
-- failStale() when a study is opened again. Several processes share a file (parallel trials): trial numbers
-- are allocated inside a write transaction.
-- Tables: studies(name, directions JSON), study_attrs, trials(number, state, pid, times, error),
-- params(value as a number: categorical = choice index; distribution JSON), trial_values, intermediate,
-- trial_attrs (JSON values), meta(schema).
local M = {}
local Store = {}
Store.__index = Store

local SCHEMA = {
  [[CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)]],
  [[CREATE TABLE IF NOT EXISTS studies(id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, directions TEXT NOT NULL, created REAL)]],
  [[CREATE TABLE IF NOT EXISTS study_attrs(study INTEGER NOT NULL REFERENCES studies(id), key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(study, key))]],
  [[CREATE TABLE IF NOT EXISTS trials(id INTEGER PRIMARY KEY, study INTEGER NOT NULL REFERENCES studies(id), number INTEGER NOT NULL,
      state TEXT NOT NULL, pid INTEGER, started REAL, finished REAL, error TEXT, UNIQUE(study, number))]],
  [[CREATE TABLE IF NOT EXISTS params(trial INTEGER NOT NULL REFERENCES trials(id), name TEXT NOT NULL, value REAL NOT NULL,
      distribution TEXT NOT NULL, PRIMARY KEY(trial, name))]],
  [[CREATE TABLE IF NOT EXISTS trial_values(trial INTEGER NOT NULL REFERENCES trials(id), objective INTEGER NOT NULL, value REAL NOT NULL,
      PRIMARY KEY(trial, objective))]],
  [[CREATE TABLE IF NOT EXISTS intermediate(trial INTEGER NOT NULL REFERENCES trials(id), step INTEGER NOT NULL, value REAL,
      PRIMARY KEY(trial, step))]],
  [[CREATE TABLE IF NOT EXISTS trial_attrs(trial INTEGER NOT NULL REFERENCES trials(id), key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY(trial, key))]],
}
M.SCHEMA_VERSION = '1'

--- Opens (creating the schema in) the study file at path, or an in-memory store when path is nil.
function M.open(path, opts)
  local db = tune.sqlite(path or ':memory:', {busyTimeout = opts and opts.busyTimeout or 30})
  local self = setmetatable({db = db, path = path, dists = {}}, Store)
  local version = nil
  local ok, rows = pcall(db.exec, db, "SELECT value FROM meta WHERE key = 'schema'")
  if ok then version = rows[1] and rows[1].value end
  if version and version ~= M.SCHEMA_VERSION then
    db:close()
    error(string.format("tune: '%s' has study schema version %s; this llmscript reads version %s", tostring(path), version, M.SCHEMA_VERSION), 0)
  end
  if not version then
    self:tx(function()
      for _, sql in ipairs(SCHEMA) do db:exec(sql) end
      db:exec("INSERT OR IGNORE INTO meta(key, value) VALUES('schema', ?)", M.SCHEMA_VERSION)
    end)
  end
  return self
end

--- Runs fn inside one write transaction (rolled back when fn raises); returns fn's result.
function Store:tx(fn)
  self.db:exec('BEGIN IMMEDIATE')
  local ok, r = pcall(fn)
  if ok then
    self.db:exec('COMMIT')
    return r
  end
  pcall(self.db.exec, self.db, 'ROLLBACK')
  error(r, 0)
end

function Store:close() self.db:close() end

local function now() return llm.time() end

--- The study row {id, name, directions} named name, or nil.
function Store:study(name)
  local r = self.db:exec('SELECT id, name, directions FROM studies WHERE name = ?', name)[1]
  if r then r.directions = llm.json.decode(r.directions) end
  return r
end

--- Every study row, by id.
function Store:studies()
  local rows = self.db:exec('SELECT id, name, directions FROM studies ORDER BY id')
  for _, r in ipairs(rows) do r.directions = llm.json.decode(r.directions) end
  return rows
end

--- Creates the study name (or returns the existing one); returns its row.
function Store:createStudy(name, directions)
  return self:tx(function()
    local r = self:study(name)
    if r then return r end
    self.db:exec('INSERT INTO studies(name, directions, created) VALUES(?, ?, ?)', name, llm.json.encode(directions), now())
    return self:study(name)
  end)
end

function Store:setStudyAttr(study, key, value)
  self:tx(function() self.db:exec('INSERT OR REPLACE INTO study_attrs(study, key, value) VALUES(?, ?, ?)', study, key, llm.json.encode(value)) end)
end

function Store:studyAttrs(study)
  local out = {}
  for _, r in ipairs(self.db:exec('SELECT key, value FROM study_attrs WHERE study = ?', study)) do out[r.key] = llm.json.decode(r.value) end
  return out
end

--- Allocates the next trial number of the study as a 'running' trial owned by pid; returns number, trial id.
function Store:createTrial(study, pid)
  return table.unpack(self:tx(function()
    local r = self.db:exec('SELECT COALESCE(MAX(number) + 1, 0) AS n FROM trials WHERE study = ?', study)[1]
    self.db:exec("INSERT INTO trials(study, number, state, pid, started) VALUES(?, ?, 'running', ?, ?)", study, r.n, pid, now())
    return {r.n, self.db:lastInsertId()}
  end))
end

function Store:setPid(trial, pid) self:tx(function() self.db:exec('UPDATE trials SET pid = ? WHERE id = ?', pid, trial) end) end

function Store:setParam(trial, name, stored, dist)
  self:tx(function()
    self.db:exec('INSERT OR REPLACE INTO params(trial, name, value, distribution) VALUES(?, ?, ?, ?)', trial, name, stored, llm.json.encode(dist))
  end)
end

function Store:report(trial, step, value)
  self:tx(function()
    self.db:exec('INSERT OR REPLACE INTO intermediate(trial, step, value) VALUES(?, ?, ?)', trial, step, value == value and value or nil)
  end)
end

function Store:setTrialAttr(trial, key, value)
  self:tx(function() self.db:exec('INSERT OR REPLACE INTO trial_attrs(trial, key, value) VALUES(?, ?, ?)', trial, key, llm.json.encode(value)) end)
end

--- Ends a trial: state 'complete' (with values), 'pruned' or 'failed' (with an error text). Only a trial
--- still 'running' changes (a finished trial stays as it is); returns true when it changed.
function Store:finish(trial, state, values, err)
  return self:tx(function()
    self.db:exec("UPDATE trials SET state = ?, finished = ?, error = ? WHERE id = ? AND state = 'running'", state, now(), err, trial)
    if self.db:changes() == 0 then return false end
    for i, v in ipairs(values or {}) do
      self.db:exec('INSERT OR REPLACE INTO trial_values(trial, objective, value) VALUES(?, ?, ?)', trial, i, v)
    end
    return true
  end)
end

--- Marks failed every 'running' trial of the study whose process is gone (alive(pid) false); returns their numbers.
function Store:failStale(study, alive)
  return self:tx(function()
    local failed = {}
    for _, r in ipairs(self.db:exec("SELECT id, number, pid FROM trials WHERE study = ? AND state = 'running'", study)) do
      if not (r.pid and alive(r.pid)) then
        self.db:exec("UPDATE trials SET state = 'failed', finished = ?, error = ? WHERE id = ?", now(),
          'the process running this trial (pid ' .. tostring(r.pid) .. ') ended before it finished', r.id)
        failed[#failed + 1] = r.number
      end
    end
    return failed
  end)
end

function Store:dist(json)
  local d = self.dists[json]
  if not d then d = llm.json.decode(json); self.dists[json] = d end
  return d
end

--- Trial records of the study (states: a set of states, or nil for all; number: one trial), by number:
--- {id, number, state, params, distributions, values (complete only), intermediate, attrs, error, started, finished, pid}.
function Store:trials(study, states, number)
  local db = self.db
  local where, args = 'study = ?', {study}
  if number then where, args = where .. ' AND number = ?', {study, number} end
  local list, byId = {}, {}
  for _, r in ipairs(db:exec('SELECT id, number, state, pid, started, finished, error FROM trials WHERE ' .. where .. ' ORDER BY number', table.unpack(args))) do
    if not states or states[r.state] then
      r.params, r.distributions, r.intermediate, r.attrs = {}, {}, {}, {}
      list[#list + 1] = r
      byId[r.id] = r
    end
  end
  if #list == 0 then return list end
  local sub = number and ' AND t.number = ' .. math.tointeger(number) or ''
  local function each(sql, fn)
    for _, row in ipairs(db:exec(sql .. sub, study)) do
      local t = byId[row.trial]
      if t then fn(t, row) end
    end
  end
  each('SELECT p.trial, p.name, p.value, p.distribution FROM params p JOIN trials t ON t.id = p.trial WHERE t.study = ?', function(t, row)
    local d = self:dist(row.distribution)
    t.params[row.name] = require('llm.tune.space').fromStored(d, row.value)
    t.distributions[row.name] = d
  end)
  each('SELECT v.trial, v.objective, v.value FROM trial_values v JOIN trials t ON t.id = v.trial WHERE t.study = ?', function(t, row)
    if t.state == 'complete' then t.values = t.values or {}; t.values[row.objective] = row.value end
  end)
  each('SELECT i.trial, i.step, i.value FROM intermediate i JOIN trials t ON t.id = i.trial WHERE t.study = ?', function(t, row)
    t.intermediate[row.step] = row.value or 0 / 0
  end)
  each('SELECT a.trial, a.key, a.value FROM trial_attrs a JOIN trials t ON t.id = a.trial WHERE t.study = ?', function(t, row)
    t.attrs[row.key] = llm.json.decode(row.value)
  end)
  return list
end

return M
