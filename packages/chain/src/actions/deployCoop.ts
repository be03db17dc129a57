// The deployCoop action lives in ../deploy.ts (shared with tests and the devnet demo).
export { deployCoop, type DeployCoopParameters, type DeployCoopReturnType, type DeployedContract } from '../deploy.ts'
