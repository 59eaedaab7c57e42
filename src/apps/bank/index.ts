export { BANK_ERRORS, BankSnapshotError, BankStateMachine, createBank, parseBankOp } from './bank.js';
export type { BankError, BankOp, BankResult, BankSnapshot, ParsedBankOp } from './bank.js';
export { createRaftBankNode, type RaftBankOptions } from './program.js';
