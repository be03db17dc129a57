// Coop dashboard: reads the node's (or devnet's) JSON API and follows its WebSocket (/ws).
// No build step, no framework: DOM built with textContent only (chain data is untrusted).

const state = {
  status: null,
  tasks: [],
  taskId: null,
  rounds: [],
  nodes: [],
  audits: [],
  selectedCycle: null,
  names: new Map(),
  knownNodes: new Set(),
  feed: [],
  ws: null,
  wsState: 'connecting',
  retryMs: 1000,
}

// ─── helpers ───

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'class') el.className = value
    else if (key === 'dataset') Object.assign(el.dataset, value)
    else if (key === 'style') el.style.cssText = value // CSSOM: allowed under the page's CSP (no inline style attributes)
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value)
    else el.setAttribute(key, value === true ? '' : String(value))
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue
    el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return el
}

const $ = (id) => document.getElementById(id)

async function api(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } })
  if (!response.ok) throw new Error(`${path}: ${response.status}`)
  return response.json()
}

/** Decimal-string token amount → "1,234.5" (at most 4 fraction digits). */
function amount(value, decimals = 18, symbol = '') {
  if (value === null || value === undefined) return '–'
  let v = BigInt(value)
  const negative = v < 0n
  if (negative) v = -v
  const unit = 10n ** BigInt(decimals)
  const whole = (v / unit).toLocaleString('en-US')
  let frac = (v % unit).toString().padStart(decimals, '0').slice(0, 4).replace(/0+$/, '')
  if (frac === '' && v % unit !== 0n && v < unit) frac = '0001'.slice(0, 4)
  return `${negative ? '−' : ''}${whole}${frac ? `.${frac}` : ''}${symbol ? ` ${symbol}` : ''}`
}

const short = (hex, head = 6, tail = 4) => (hex && hex.length > head + tail + 2 ? `${hex.slice(0, head)}…${hex.slice(-tail)}` : hex ?? '–')
const pct = (bps) => `${(Number(bps) / 100).toFixed(Number(bps) % 100 === 0 ? 0 : 1)}%`

function hue(address) {
  let x = 0
  for (let i = 2; i < address.length; i++) x = (x * 31 + address.charCodeAt(i)) % 360
  return x
}

function who(address, { showAddress = true } = {}) {
  if (!address) return h('span', { class: 'muted' }, '–')
  const name = state.names.get(address)
  return h(
    'span',
    { class: 'who', title: address, dataset: { address } },
    h('span', { class: 'swatch', style: `background: hsl(${hue(address)} 55% 55%)` }),
    name ? h('span', { class: 'nm' }, name) : null,
    showAddress || !name ? h('span', { class: 'addr' }, short(address)) : null,
  )
}

function timeOf(seconds) {
  if (!seconds) return '–'
  const d = new Date(Number(seconds) * 1000)
  return d.toISOString().replace('T', ' ').slice(0, 19)
}

function duration(seconds) {
  const s = Number(seconds)
  if (s >= 3600 && s % 3600 === 0) return `${s / 3600} h`
  if (s >= 60 && s % 60 === 0) return `${s / 60} min`
  return `${s} s`
}

const selectedTask = () => state.tasks.find((t) => t.taskId === state.taskId)

// ─── loading ───

let refreshTimer = null
let refreshing = null
let again = false

function scheduleRefresh(delay = 120) {
  if (refreshTimer) return
  refreshTimer = setTimeout(() => {
    refreshTimer = null
    refresh()
  }, delay)
}

async function refresh() {
  if (refreshing) {
    again = true
    return refreshing
  }
  refreshing = (async () => {
    try {
      const [status, tasks] = await Promise.all([api('/api/status'), api('/api/tasks')])
      state.status = status
      state.tasks = tasks
      const wanted = location.hash.match(/^#\/tasks\/(\d+)/)?.[1]
      if (wanted && tasks.some((t) => t.taskId === wanted)) state.taskId = wanted
      else if (!tasks.some((t) => t.taskId === state.taskId)) state.taskId = tasks[0]?.taskId ?? null
      if (state.taskId !== null) {
        const id = state.taskId
        const [rounds, nodes, audits] = await Promise.all([
          api(`/api/tasks/${id}/rounds?limit=6`),
          api(`/api/tasks/${id}/nodes`),
          api(`/api/tasks/${id}/audits`),
        ])
        if (id === state.taskId) {
          state.rounds = rounds
          state.nodes = nodes
          state.audits = audits
        }
      } else {
        state.rounds = []
        state.nodes = []
        state.audits = []
      }
      for (const node of state.nodes) if (node.name) state.names.set(node.address, node.name)
      if (state.status?.address && state.status?.name) state.names.set(state.status.address, state.status.name)
      render()
      document.body.dataset.loaded = 'true'
    } catch (error) {
      console.warn('refresh failed', error)
    } finally {
      refreshing = null
      if (again) {
        again = false
        scheduleRefresh()
      }
    }
  })()
  return refreshing
}

// ─── rendering ───

function render() {
  renderTop()
  renderTaskList()
  renderFeed()
  const task = selectedTask()
  $('empty').hidden = state.tasks.length > 0
  for (const id of ['task-header', 'rounds-card', 'nodes-card', 'audits-card']) $(id).hidden = !task
  if (!task) return
  renderTaskHeader(task)
  renderTimeline(task)
  renderCycleDetail(task)
  renderNodes(task)
  renderAudits(task)
}

function renderTop() {
  const s = state.status
  if (!s) return
  $('chain-id').textContent = s.chainId ?? '–'
  $('block-number').textContent = s.blockNumber ?? '–'
  $('chain-time').textContent = timeOf(s.now)
  $('node-name').textContent = s.address ? `${s.name} · ${short(s.address)}` : s.name
}

function renderTaskList() {
  const list = $('task-list')
  if (state.tasks.length === 0) {
    list.replaceChildren(h('li', { class: 'muted' }, 'no tasks'))
    return
  }
  list.replaceChildren(
    ...state.tasks.map((t) =>
      h(
        'li',
        {},
        h(
          'a',
          { href: `#/tasks/${t.taskId}`, 'aria-current': t.taskId === state.taskId ? 'true' : 'false', dataset: { taskId: t.taskId } },
          h('span', { class: 't-title' }, `Task #${t.taskId}`, h('span', { class: `badge ${t.stopped ? 'stopped' : 'running'}` }, t.stopped ? 'stopped' : 'running')),
          h('span', { class: 't-meta' }, `round ${t.currentRound} · ${t.nodeCount} node${t.nodeCount === 1 ? '' : 's'} · ${short(t.programCid, 8, 4)}`),
        ),
      ),
    ),
  )
}

function renderTaskHeader(task) {
  const p = task.params
  const now = BigInt(state.status?.clock ?? state.status?.now ?? task.roundStartsAt)
  const elapsed = Number(now - BigInt(task.roundStartsAt))
  const progress = Math.max(0, Math.min(100, (elapsed / Number(p.roundLength)) * 100))
  const stat = (label, value, extra) => h('div', { class: 'stat' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value), extra)
  $('task-header').replaceChildren(
    h('div', {}, h('h1', {}, `Task #${task.taskId}`, h('span', { class: `badge ${task.stopped ? 'stopped' : 'running'}` }, task.stopped ? 'stopped' : 'running')),
      h('div', { class: 'cid mono', title: task.programCid }, `program ${short(task.programCid, 10, 8)} · creator `, who(task.creator, { showAddress: true }))),
    h('div', { class: 'muted' }, `rounds of ${duration(p.roundLength)} · submit ${duration(p.submissionWindow)} · audit until ${duration(p.auditWindow)}`),
    h(
      'div',
      { class: 'stats' },
      stat('round', task.currentRound, h('div', { class: 'progress', title: `${Math.round(progress)}% of the round elapsed` }, h('span', { style: `width: ${progress}%` }))),
      stat('bounty / round', amount(p.bountyPerRound, task.rewardToken.decimals, task.rewardToken.symbol)),
      stat('escrow', amount(task.escrow, task.rewardToken.decimals, task.rewardToken.symbol)),
      stat('min stake', amount(p.minStake, task.stakeToken.decimals, task.stakeToken.symbol)),
      stat('nodes', task.nodeCount),
      stat('audit', `${p.duesRounds} dues rounds · floor ${pct(p.auditFloorBps)}`),
    ),
  )
}

/** What `cycle` is doing in round `round`, as a timeline cell. */
function cellFor(task, cycleRow, round, current) {
  const c = BigInt(cycleRow.cycle)
  const r = BigInt(round)
  const future = r > current
  const active = r === current
  const subs = cycleRow.submissions
  const sampled = subs.filter((s) => s.sampled).length
  const convicted = subs.filter((s) => s.convicted).length
  const batched = subs.filter((s) => s.via === 'batched').length
  const audits = cycleRow.audits.length
  const cls = (kind) => `tl-cell ${kind}${active && kind !== 'final' && kind !== 'failed' ? ' active' : ''}${active ? ' col-now' : ''}`
  if (r === c) {
    if (future) return h('div', { class: 'tl-cell future' }, h('span', { class: 't1' }, 'work'))
    return h('div', { class: cls('work'), dataset: { phase: 'work' } }, h('span', { class: 't1' }, 'work'), h('span', { class: 't2' }, active ? 'in progress' : 'done'))
  }
  if (r === c + 1n) {
    if (future) return h('div', { class: 'tl-cell future' }, h('span', { class: 't1' }, 'submit · audit'))
    if (subs.length === 0 && !active) return h('div', { class: 'tl-cell empty' }, h('span', { class: 't1' }, 'no submissions'))
    const phase = active ? (cycleRow.phase === 'submission' ? 'submitting' : 'auditing') : null
    return h(
      'div',
      { class: cls('submit'), dataset: { phase: 'submit' } },
      h('span', { class: 't1' }, `${subs.length} submitted${batched ? ` (${batched} batched)` : ''}${phase ? ` · ${phase}` : ''}`),
      h(
        'span',
        { class: 't2' },
        cycleRow.seed ? `${sampled} sampled` : 'seed pending',
        audits ? ` · ${audits} audit${audits === 1 ? '' : 's'}` : '',
        convicted ? h('span', { class: 'tl-flag' }, ` · ${convicted} convicted`) : '',
      ),
    )
  }
  if (r >= c + 2n) {
    const d = cycleRow.distribution
    // The distribution lives in round c+2 unless it is still open later.
    const open = d.status === 'pending' || d.status === 'posted'
    if (r > c + 2n && !(open && r === current && subs.length > 0)) return h('div', { class: 'tl-cell blank' })
    if (future) return h('div', { class: 'tl-cell future' }, h('span', { class: 't1' }, 'distribute'))
    if (subs.length === 0) return h('div', { class: 'tl-cell empty' }, h('span', { class: 't1' }, 'nothing to distribute'))
    const kind = d.status === 'final' ? 'final' : d.status === 'failed' ? 'failed' : 'distribute'
    const token = task.rewardToken
    return h(
      'div',
      { class: cls(kind), dataset: { phase: 'distribute', status: d.status } },
      h('span', { class: 't1' }, d.status === 'final' ? 'final ✓' : d.status === 'failed' ? 'failed' : d.status === 'posted' ? 'posted · challenge window' : 'awaiting post'),
      h('span', { class: 't2' }, d.poster ? [`by `, state.names.get(d.poster) ?? short(d.poster), ` · ${amount(d.rewardTotal, token.decimals, token.symbol)}`] : `attempt ${d.attempt + 1}`),
    )
  }
  return h('div', { class: 'tl-cell blank' })
}

function renderTimeline(task) {
  const current = BigInt(task.currentRound)
  const cycles = state.rounds // newest first
  const oldest = cycles.length ? BigInt(cycles[cycles.length - 1].cycle) : current
  const first = oldest
  const last = current + 2n
  const columns = []
  for (let r = first; r <= last; r++) columns.push(r)
  const timeline = $('timeline')
  timeline.style.gridTemplateColumns = `90px repeat(${columns.length}, minmax(118px, 1fr))`
  const head = [h('div', { class: 'tl-head corner' }, 'cycle'), ...columns.map((r) => h('div', { class: `tl-head${r === current ? ' now' : ''}`, role: 'columnheader' }, `round ${r}`))]
  const rows = cycles.map((row) =>
    h(
      'div',
      { class: 'tl-row', role: 'row', dataset: { cycle: row.cycle, phase: row.phase } },
      h(
        'button',
        {
          class: 'tl-label',
          'aria-pressed': row.cycle === state.selectedCycle ? 'true' : 'false',
          onclick: () => {
            state.selectedCycle = row.cycle
            render()
          },
        },
        `cycle ${row.cycle}`,
      ),
      columns.map((r) => cellFor(task, row, r, current)),
    ),
  )
  timeline.replaceChildren(...head, ...rows)

  const at = (c) => (c >= 0n ? `cycle ${c}` : '—')
  $('phase-line').replaceChildren(
    h('span', { class: 'phase-now' }, `round ${current}: `),
    `work ${at(current)} · submit & audit ${at(current - 1n)} · distribute ${at(current - 2n)}`,
  )
}

function renderCycleDetail(task) {
  const cycles = state.rounds
  if (!cycles.some((c) => c.cycle === state.selectedCycle)) {
    state.selectedCycle = (cycles.find((c) => c.submissions.length > 0) ?? cycles[0])?.cycle ?? null
  }
  const row = cycles.find((c) => c.cycle === state.selectedCycle)
  const box = $('cycle-detail')
  if (!row) {
    box.replaceChildren()
    return
  }
  const d = row.distribution
  const rt = task.rewardToken
  const st = task.stakeToken
  const subs = row.submissions
  box.replaceChildren(
    h('h3', {}, `Cycle ${row.cycle}`, h('span', { class: `badge ${d.status}` }, row.phase)),
    h(
      'p',
      { class: 'kv' },
      h('span', {}, 'budget ', h('b', {}, amount(row.budget, rt.decimals, rt.symbol))),
      h('span', {}, 'bonus ', h('b', {}, amount(row.bonus, st.decimals, st.symbol))),
      h('span', {}, 'seed ', h('b', { class: 'mono', title: row.seed ?? '' }, row.seed ? short(row.seed, 10, 6) : 'not fixed yet')),
      h('span', {}, 'distribution ', h('b', {}, d.status), d.poster ? [' by ', who(d.poster, { showAddress: false })] : ''),
      d.merkleRoot ? h('span', {}, 'root ', h('b', { class: 'mono', title: d.merkleRoot }, short(d.merkleRoot, 10, 6))) : null,
      d.rewardTotal !== '0' ? h('span', {}, 'claimed ', h('b', {}, `${amount(d.rewardClaimed, rt.decimals)} / ${amount(d.rewardTotal, rt.decimals, rt.symbol)}`)) : null,
    ),
    subs.length === 0
      ? h('p', { class: 'muted' }, 'No submissions for this cycle.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'data', id: 'submissions-table' },
            h('thead', {}, h('tr', {}, ['submitter', 'root', 'weight', 'audit p', 'sampled', 'auditors', 'verdict'].map((t, i) => h('th', { scope: 'col', class: i === 2 ? 'num' : '' }, t)))),
            h(
              'tbody',
              {},
              subs.map((s) =>
                h(
                  'tr',
                  { class: s.convicted ? 'convicted' : '', dataset: { address: s.node, via: s.via ?? 'direct' } },
                  h('td', {}, h('div', { class: 'who-line' }, who(s.node), s.via === 'batched' ? [' ', batchBadge(s.batch)] : null)),
                  h('td', { class: 'mono', title: s.root }, short(s.root, 10, 6)),
                  h('td', { class: 'num' }, amount(s.weight, st.decimals)),
                  h('td', {}, s.auditProbabilityBps === null ? '–' : pct(s.auditProbabilityBps)),
                  h('td', {}, s.sampled === null ? h('span', { class: 'no' }, 'seed pending') : s.sampled ? h('span', { class: 'yes' }, 'sampled') : h('span', { class: 'no' }, 'not sampled')),
                  h('td', {}, s.auditors.length ? s.auditors.map((a) => who(a, { showAddress: false })) : h('span', { class: 'muted' }, '–')),
                  h('td', {}, s.convicted ? h('span', { class: 'badge convicted' }, 'convicted') : BigInt(row.cycle) < BigInt(task.currentRound) - 1n ? h('span', { class: 'good' }, 'passed') : h('span', { class: 'muted' }, 'open')),
                ),
              ),
            ),
          ),
        ),
  )
}

/** A batched submission's mark: posted in a batch (submitBatch), not materialized on-chain until it is needed. */
function batchBadge(batch) {
  const title = batch ? `batch #${batch.batchIndex}, position ${batch.position}, score ${batch.score}${batch.materialized ? ', materialized' : ', not materialized yet'}` : 'batched'
  return h('span', { class: 'badge batched', title }, 'batched')
}

function renderNodes(task) {
  const st = task.stakeToken
  const rt = task.rewardToken
  const tbody = $('nodes-table').querySelector('tbody')
  const nodes = [...state.nodes].sort((a, b) => (a.name ?? a.address).localeCompare(b.name ?? b.address))
  if (nodes.length === 0) {
    tbody.replaceChildren(h('tr', {}, h('td', { colspan: 9, class: 'muted' }, 'No node has staked yet.')))
    return
  }
  const firstRender = state.knownNodes.size === 0
  tbody.replaceChildren(
    ...nodes.map((n) => {
      const fresh = !firstRender && !state.knownNodes.has(n.address)
      state.knownNodes.add(n.address)
      const rate = n.submissions ? Math.round((n.audited / n.submissions) * 100) : null
      const batchedCount = n.batched ?? 0
      return h(
        'tr',
        { class: `${n.convicted ? 'convicted' : ''}${fresh ? ' fresh' : ''}`, dataset: { address: n.address } },
        h('td', {}, h('div', { class: 'who-line' }, who(n.address), n.convicted ? [' ', h('span', { class: 'badge convicted' }, 'convicted')] : null),
          n.p2p ? h('div', { class: 'p2p', title: n.p2p }, short(n.p2p, 16, 10)) : null),
        h('td', { class: 'num', dataset: { col: 'stake' } }, amount(n.stake, st.decimals, st.symbol)),
        h('td', { class: 'num' }, n.unbonding === '0' ? h('span', { class: 'muted' }, '–') : amount(n.unbonding, st.decimals)),
        h('td', { class: 'num' }, h('span', { class: 'good' }, n.passed), ' / ', h('span', { class: n.failed ? 'bad' : '' }, n.failed), ` · ${n.score}`),
        h('td', {}, h('div', { class: 'pbar' }, h('span', { class: 'track' }, h('span', { class: 'fill', style: `width: ${Number(n.auditProbabilityBps) / 100}%` })), h('span', { class: 'pct' }, pct(n.auditProbabilityBps)))),
        h('td', { class: 'num' }, `${n.audited} / ${n.submissions}`, rate === null ? '' : h('span', { class: 'muted' }, ` (${rate}%)`),
          batchedCount ? h('div', { class: 'muted', dataset: { col: 'batched' } }, `${batchedCount} batched`) : null),
        h('td', { class: 'num' }, amount(n.rewards, rt.decimals, rt.symbol)),
        h('td', { class: 'num' }, amount(n.bonus, st.decimals)),
        h('td', { class: 'num' }, n.slashed === '0' ? h('span', { class: 'muted' }, '–') : h('span', { class: 'bad' }, `−${amount(n.slashed, st.decimals, st.symbol)}`)),
      )
    }),
  )
}

function renderAudits(task) {
  const st = task.stakeToken
  const list = $('audit-log')
  if (state.audits.length === 0) {
    list.replaceChildren(h('li', { class: 'muted' }, 'No audits raised. Sampled submissions are checked by their assigned auditors every round.'))
    return
  }
  list.replaceChildren(
    ...state.audits.map((a) => {
      const up = BigInt(a.upholdWeight)
      const down = BigInt(a.rejectWeight)
      const total = up + down
      const upPct = total === 0n ? 0 : Number((up * 1000n) / total) / 10
      const outcome = a.status === 'upheld' ? 'upheld' : a.status === 'rejected' ? 'rejected' : null
      return h(
        'li',
        { class: a.status, dataset: { auditId: a.auditId, status: a.status } },
        h('div', { class: 'a-title' }, `#${a.auditId} · ${a.kind === 'distribution' ? 'distribution challenge' : 'submission audit'} · cycle ${a.cycle}`),
        h('span', { class: `badge ${a.status}` }, a.status),
        h('div', { class: 'a-parties' }, who(a.accuser, { showAddress: false }), ' raised against ', who(a.accused, { showAddress: false }), h('span', { class: 'muted mono', title: a.evidenceCid }, ` evidence ${short(a.evidenceCid, 8, 4)}`)),
        h('div', { class: 'muted' }, a.resolved ? '' : `votes until ${timeOf(a.deadline)}`),
        h(
          'div',
          { class: 'a-steps' },
          h('span', { class: 'step on' }, 'raised'),
          h('span', { class: `step${a.votes.length ? ' on' : ''}` }, `voted (${a.votes.length})`),
          h('span', { class: `step${outcome === 'upheld' ? ' red' : outcome ? ' on' : ''}` }, outcome ?? 'resolution pending'),
        ),
        h('div', { class: 'weights', title: `uphold ${amount(a.upholdWeight, st.decimals)} · reject ${amount(a.rejectWeight, st.decimals)}` }, h('span', { class: 'up', style: `width: ${upPct}%` }), h('span', { class: 'down', style: `width: ${total === 0n ? 0 : 100 - upPct}%` })),
        h(
          'div',
          { class: 'a-foot' },
          h('span', {}, a.votes.map((v, i) => [i ? ' · ' : '', state.names.get(v.voter) ?? short(v.voter), ` ${v.side} `, h('span', { class: 'muted' }, amount(v.weight, st.decimals))])),
          a.slashed ? h('span', { class: 'bad' }, `${state.names.get(a.slashed.node) ?? short(a.slashed.node)} slashed ${amount(a.slashed.amount, st.decimals, st.symbol)}`) : null,
          a.shared ? h('span', {}, `${state.names.get(a.shared.winner) ?? short(a.shared.winner)} +${amount(a.shared.toWinner, st.decimals, st.symbol)} · voters ${amount(a.shared.toVoters, st.decimals)} · pool ${amount(a.shared.toPool, st.decimals)}`) : null,
        ),
      )
    }),
  )
}

// ─── live events ───

function describe(e) {
  const n = (address) => (address ? state.names.get(address) ?? short(address) : '?')
  switch (e.type) {
    case 'submission': return e.status === 'materialized' ? `${n(e.node)}'s batched submission of cycle ${e.cycle} materialized` : `${n(e.node)} submitted cycle ${e.cycle}${e.via === 'batched' ? ` (batched, batch #${e.batchIndex})` : ''}`
    case 'round': return e.event === 'SeedRecorded' ? `seed of cycle ${e.cycle} fixed` : e.event === 'CycleOpened' ? `cycle ${e.cycle} opened` : `round ${e.round ?? e.cycle} began`
    case 'audit': return e.status === 'raised' ? `${n(e.accuser)} raised an audit against ${n(e.accused)} (cycle ${e.cycle})` : `audit #${e.auditId} ${e.status}`
    case 'vote': return `${n(e.voter)} voted ${e.side} on audit #${e.auditId}`
    case 'slash': return `${n(e.node)} slashed`
    case 'distribution': return `cycle ${e.cycle} distribution ${e.status}${e.poster ? ` by ${n(e.poster)}` : ''}`
    case 'claim': return e.kind === 'vote' ? `${n(e.node)} claimed a vote reward` : `${n(e.node)} claimed cycle ${e.cycle}`
    case 'stake': return `${n(e.node)} ${e.event === 'Staked' ? 'staked' : e.event === 'UnstakeRequested' ? 'requested unstake' : 'withdrew stake'}`
    case 'node': return `${n(e.node)} registered`
    case 'reputation': return e.reopenedUntil ? `${n(e.node)}: past rounds re-opened` : `${n(e.node)} reputation ${e.passed}/${e.failed} · score ${e.score}`
    case 'task': return e.event === 'TaskCreated' ? `task #${e.taskId} created` : `task #${e.taskId}: ${e.event}`
    default: return e.type
  }
}

function addFeed(e) {
  state.feed.unshift({ event: e, fresh: true })
  state.feed.length = Math.min(state.feed.length, 30)
  renderFeed()
}

/** Re-rendered after each refresh too, so that nodes learned meanwhile show by name. */
function renderFeed() {
  $('event-feed').replaceChildren(
    ...state.feed.map((item) => {
      const e = item.event
      const li = h('li', { class: item.fresh ? 'fresh' : '', dataset: { type: e.type } }, h('span', { class: `k k-${e.type}` }), h('span', {}, describe(e), h('span', { class: 'muted' }, ` · #${e.blockNumber}`)))
      item.fresh = false
      return li
    }),
  )
}

function setConnection(s, label) {
  state.wsState = s
  const el = $('connection')
  el.dataset.state = s
  $('connection-label').textContent = label
}

function connect() {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
  setConnection('connecting', 'connecting…')
  let ws
  try {
    ws = new WebSocket(url)
  } catch {
    return retry()
  }
  state.ws = ws
  ws.addEventListener('open', () => {
    state.retryMs = 1000
    setConnection('live', 'live')
  })
  ws.addEventListener('message', (message) => {
    let e
    try {
      e = JSON.parse(message.data)
    } catch {
      return
    }
    if (e.type === 'hello') {
      scheduleRefresh(0)
      return
    }
    if (e.type === 'pong' || e.type === 'subscribed') return
    if (e.type === 'sync') {
      if (state.status) {
        state.status.blockNumber = e.blockNumber
        state.status.now = e.now
        state.status.clock = e.clock ?? e.now
        renderTop()
      }
      return
    }
    if (e.event || e.type === 'round') addFeed(e)
    if (e.taskId === undefined || e.taskId === state.taskId || e.type === 'task') scheduleRefresh()
  })
  ws.addEventListener('close', () => {
    if (state.ws === ws) retry()
  })
}

function retry() {
  const wait = state.retryMs
  state.retryMs = Math.min(state.retryMs * 2, 15000)
  setConnection('offline', `offline · retry in ${Math.round(wait / 1000)} s`)
  setTimeout(connect, wait)
}

window.addEventListener('hashchange', () => {
  state.selectedCycle = null
  state.knownNodes.clear()
  refresh()
})

// Keeps phases honest between events (time moves even when nothing happens).
setInterval(() => scheduleRefresh(0), 15000)

refresh()
connect()
