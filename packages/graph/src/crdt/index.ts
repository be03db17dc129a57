export { Counter, counterValue } from './counter.ts'
