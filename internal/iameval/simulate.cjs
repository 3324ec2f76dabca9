// The IAM evaluator's Node side: @cloud-copilot/iam-simulate, pinned in
// package.json. internal/iameval starts it once per test binary and writes
// one JSON line per batch of requests on stdin; it answers one JSON line
// with a result per request, in order. It exits when stdin closes.
'use strict'

const readline = require('node:readline')
const { isWildcardOnlyAction, runSimulation, runUnsafeSimulation } = require('@cloud-copilot/iam-simulate')
const { createValidatedPolicy, validateTrustPolicy } = require('@cloud-copilot/iam-policy')

// A statement as "policy#sid" (or its index), for reasons a person reads.
function label(s) {
  const sid = s.statement && typeof s.statement.sid === 'function' ? s.statement.sid() : undefined
  const index = s.statement && typeof s.statement.index === 'function' ? s.statement.index() : undefined
  return `${s.policyId || 'policy'}#${sid !== undefined ? sid : 'statement' + (index === undefined ? '?' : index + 1)}`
}

function summary(name, a) {
  if (!a) return undefined
  const part = { result: a.result }
  if (a.allowStatements && a.allowStatements.length) part.allow = a.allowStatements.map(label)
  if (a.denyStatements && a.denyStatements.length) part.deny = a.denyStatements.map(label)
  return [name, part]
}

function reasons(analysis) {
  return Object.fromEntries(
    [
      summary('identity', analysis.identityAnalysis),
      summary('boundary', analysis.permissionBoundaryAnalysis),
      summary('resource', analysis.resourceAnalysis)
    ].filter(Boolean)
  )
}

// OIDC claims (token.actions.githubusercontent.com:sub, oidc.eks...:sub)
// that iam-data does not list for sts:AssumeRoleWithWebIdentity are dropped
// by the validating engine; such a trust check is evaluated again, unvalidated,
// with the claims as given.
function isOidcClaim(key) {
  return /^[A-Za-z0-9._\-/]+:(aud|sub|amr|job_workflow_ref|environment|ref|repository|workflow|actor)$/.test(key) && !key.startsWith('aws:')
}

async function evaluate(req) {
  // AWS authorizes an action that takes no resource type against "*",
  // whatever resource the API call names.
  const [service, action] = req.action.split(':')
  if (service && action && req.resource !== '*' && (await isWildcardOnlyAction(service, action).catch(() => false))) {
    req = { ...req, resource: '*' }
  }
  const simulation = {
    request: {
      principal: req.principal,
      action: req.action,
      resource: { resource: req.resource, accountId: req.resourceAccount },
      contextVariables: req.context || {}
    },
    identityPolicies: (req.identity || []).map((p) => ({ name: p.name, policy: p.document })),
    serviceControlPolicies: [],
    resourceControlPolicies: []
  }
  if (req.boundary) simulation.permissionBoundaryPolicies = [{ name: req.boundary.name, policy: req.boundary.document }]
  if (req.resourcePolicy) {
    // The engine names a resource policy by its `name` property; a visible
    // one would fail the policy's validation.
    simulation.resourcePolicy = req.resourcePolicy.document
    Object.defineProperty(simulation.resourcePolicy, 'name', { value: req.resourcePolicy.name, enumerable: false })
  }
  const res = await runSimulation(simulation, {})
  if (res.resultType === 'error') {
    return { error: JSON.stringify(res.errors) }
  }
  if (res.resultType === 'wildcard') {
    // "*" for an action that takes a resource: the simulator evaluates
    // each resource pattern the policies name and answers for all of them.
    const first = res.results[0]
    return { decision: res.overallResult, reasons: first ? reasons(first.analysis) : {}, ignored: [] }
  }
  const auto = new Set((req.auto || []).map((k) => k.toLowerCase()))
  const ignored = (res.result.ignoredContextKeys || []).filter((k) => !auto.has(k.toLowerCase()))
  if (ignored.length > 0 && req.action.toLowerCase() === 'sts:assumerolewithwebidentity' && ignored.every(isOidcClaim)) {
    const trust = createValidatedPolicy(req.resourcePolicy.document, validateTrustPolicy, { name: req.resourcePolicy.name })
    const decision = runUnsafeSimulation({ ...simulation, resourcePolicy: trust }, {})
    return { decision, reasons: { trust: { result: decision, policy: req.resourcePolicy.name } } }
  }
  return { decision: res.overallResult, reasons: reasons(res.result.analysis), ignored }
}

async function handle(line) {
  let out
  try {
    const batch = JSON.parse(line)
    out = []
    for (const req of batch) {
      try {
        out.push(await evaluate(req))
      } catch (err) {
        out.push({ error: String((err && err.stack) || err) })
      }
    }
  } catch (err) {
    out = { fatal: String(err) }
  }
  process.stdout.write(JSON.stringify(out) + '\n')
}

// Batches are answered one at a time, in the order they arrive.
let chain = Promise.resolve()
const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
rl.on('line', (line) => {
  chain = chain.then(() => handle(line))
})
