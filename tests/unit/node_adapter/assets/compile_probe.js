// Rebuilds Probe.json from Probe.sol with the pinned npm solc:
//   node tests/unit/node_adapter/assets/compile_probe.js tests/unit/node_adapter/assets/Probe.sol tests/unit/node_adapter/assets/Probe.json
const solc = require(require('path').resolve(__dirname, '../../../../node_modules/solc'));
const fs = require('fs');
const src = fs.readFileSync(process.argv[2], 'utf8');
const input = {language: 'Solidity', sources: {'Probe.sol': {content: src}},
  settings: {evmVersion: 'cancun', optimizer: {enabled: true, runs: 200},
  outputSelection: {'*': {'*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object']}}}};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
if (out.errors) { for (const e of out.errors) console.error(e.formattedMessage); }
const c = out.contracts['Probe.sol']['Probe'];
fs.writeFileSync(process.argv[3], JSON.stringify({abi: c.abi, bytecode: '0x' + c.evm.bytecode.object,
  deployedBytecode: '0x' + c.evm.deployedBytecode.object, compiler: 'solc-js ' + solc.version()}, null, 1));
