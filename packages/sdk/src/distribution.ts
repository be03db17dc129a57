import { equalSplit } from '@coop/protocol'
import type { Bounty, DistributionShare, SubmitterStatus } from './types.ts'

/**
 * The default `distribution`: the bounty's reward and bonus split equally among the submitters
 * that passed, sorted by address (@coop/protocol `equalSplit`; the remainder goes to nobody).
 */
export function defaultDistribution(submitters: readonly SubmitterStatus[], bounty: Bounty): DistributionShare[] {
  const passed = submitters.filter((submitter) => submitter.passed).map((submitter) => submitter.node)
  return equalSplit(bounty.reward, bounty.bonus, passed)
}
