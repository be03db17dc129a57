// Human names of where a cycle is, from the round clock (@coop/protocol) and its on-chain status.
import { cyclePhases } from '@coop/protocol'
import { distributionStatusName, type Cycle, type Task } from '@coop/chain'

export type CyclePhaseName = 'future' | 'work' | 'submission' | 'audit' | 'settling' | 'distribution' | 'posted' | 'final' | 'failed' | 'empty'

/** Where `cycle` of `task` is at chain time `now`. */
export function cyclePhaseName(task: Task, cycle: bigint, now: bigint, state: Pick<Cycle, 'status' | 'submitters'> | undefined): CyclePhaseName {
  const phases = cyclePhases(task.params, task.startTime, cycle)
  if (now < phases.workOpens) return 'future'
  if (now < phases.submissionOpens) return 'work'
  if (now < phases.submissionCloses) return 'submission'
  if (now < phases.auditCloses) return 'audit'
  const status = state ? distributionStatusName[state.status] : 'Pending'
  if (status === 'Final') return 'final'
  if (status === 'Failed') return 'failed'
  if (status === 'Posted') return 'posted'
  if (state && state.submitters.length === 0) return 'empty'
  if (now < phases.distributionOpens) return 'settling'
  return 'distribution'
}

export function currentRoundAt(task: Task, now: bigint): bigint {
  return now < task.startTime ? 0n : (now - task.startTime) / task.params.roundLength
}
