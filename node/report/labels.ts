/**
 * The fixed text of the court report, 简体中文 first and English beside: the title, the 15 checklist
 * items (docs/report.md explains each) and the limitations statement. One table, so the CLI, the API
 * and the page can never word an item differently.
 */
import type { ItemStatus, Label } from './types';

export const REPORT_TITLE: Label = { zh: '区块链存证核验报告', en: 'Blockchain evidence verification report' };

export const STATUS_LABEL: Record<ItemStatus, Label> = {
  PASS: { zh: '通过', en: 'PASS' },
  FAIL: { zh: '不通过', en: 'FAIL' },
  'NOT APPLICABLE': { zh: '不适用', en: 'NOT APPLICABLE' },
  'NOT PROVIDED': { zh: '未提供', en: 'NOT PROVIDED' },
};

export const ITEM_TEXT: readonly { key: string; title: Label; checks: Label }[] = [
  {
    key: 'evidence-identity',
    title: { zh: '电子数据标识与摘要', en: 'Evidence identity and digests' },
    checks: { zh: '由法院所持文件重新计算 SHA-256 与 SM3，并与存证记录比对。', en: 'SHA-256 and SM3 recomputed from the file the court holds and compared with the deposit record.' },
  },
  {
    key: 'leaf-construction',
    title: { zh: '叶子构造', en: 'Leaf construction' },
    checks: { zh: '记录的规范化字节、加盐承诺与日志叶子逐一重算。', en: 'Each record\'s canonical bytes, salted commitment and log leaf recomputed.' },
  },
  {
    key: 'anchor',
    title: { zh: '链上锚定', en: 'On-chain anchor' },
    checks: { zh: '从链上读取登记合约的检查点、交易、区块高度与区块哈希、区块时间及确认数。', en: 'The registry\'s checkpoint, transaction, block number and hash, block time and confirmations, read from the chain.' },
  },
  {
    key: 'inclusion',
    title: { zh: '包含证明', en: 'Inclusion proof' },
    checks: { zh: '审计路径重算出的根等于运营者签名的检查点及链上的根。', en: 'The audit path recomputes the root that the operator signed and the chain holds.' },
  },
  {
    key: 'consistency',
    title: { zh: '一致性', en: 'Consistency' },
    checks: { zh: '本包的检查点仍是链上日志历史的一部分（直至核验时的最新检查点）。', en: 'The bundle\'s checkpoint is still part of the log\'s history on chain, up to its latest checkpoint.' },
  },
  {
    key: 'independent-time',
    title: { zh: '独立时间证据', en: 'Independent time evidence' },
    checks: { zh: 'RFC 3161 时间戳：消息印记、签名、证书链、ESSCertIDv2、genTime；与链上时间窗比对。', en: 'RFC 3161 tokens: imprint, signature, certificate chain, ESSCertIDv2, genTime; compared with the chain\'s time window.' },
  },
  {
    key: 'depositor',
    title: { zh: '存证人身份与签名', en: 'Depositor identity and signature' },
    checks: { zh: '存证人的身份及其对存证内容的签名。', en: 'Who deposited, and their own signature over the deposit.' },
  },
  {
    key: 'pre-chain-provenance',
    title: { zh: '上链前来源', en: 'Pre-chain provenance' },
    checks: { zh: '取证方式、来源、取证时间与环境，即存证时承诺的内容。', en: 'Capture method, source, time and environment, as committed at deposit.' },
  },
  {
    key: 'custody',
    title: { zh: '保管链', en: 'Chain of custody' },
    checks: { zh: '每一保管事件：何人、何时、何事、何因，按日志顺序并符合生命周期规则。', en: 'Every custody event: who, when, what and why, in log order and by the lifecycle rules.' },
  },
  {
    key: 'platform-compliance',
    title: { zh: '平台合规', en: 'Platform compliance' },
    checks: { zh: '运营者名称、统一社会信用代码、区块链信息服务备案编号、等级保护级别，经日志运营者签名。', en: 'Operator name, USCC, CAC blockchain filing number, MLPS level, signed by the log operator.' },
  },
  {
    key: 'interest-disclosure',
    title: { zh: '利益关系披露', en: 'Interest disclosure' },
    checks: { zh: '服务的运营者、各节点及其运营方、与当事人的关系。', en: 'Who operates the service, each node and who runs it, relationships to the parties.' },
  },
  {
    key: 'technical-profile',
    title: { zh: '技术概况', en: 'Technical profile' },
    checks: { zh: '算法、软件版本、确认数、MMD（由运行配置生成），以及密钥保管与时钟来源。', en: 'Algorithms, software versions, confirmations, MMD (generated from the running configuration), key custody and clock source.' },
  },
  {
    key: 'reproducibility',
    title: { zh: '可复现性', en: 'Reproducibility pack' },
    checks: { zh: '核验程序名称、版本及其代码的 SHA-256，复现命令，输入的摘要。', en: 'The verifier\'s name, version and code SHA-256, the command to rerun, the inputs\' digests.' },
  },
  {
    key: 'result',
    title: { zh: '核验结论', en: 'Result statement' },
    checks: { zh: '总体结论、首个失败步骤、核验者与核验时间。', en: 'The verdict, the first failing step, who verified and when.' },
  },
  {
    key: 'limitations',
    title: { zh: '局限性声明', en: 'Limitations statement' },
    checks: { zh: '本核验不能证明的事项。', en: 'What this verification does not prove.' },
  },
];

/** The fixed limitations statement (item 15). */
export const LIMITATIONS: readonly Label[] = [
  {
    zh: '本核验证明相关记录（及文件）自锚定时起未被篡改且已存在；不证明其内容真实，也不证明数据在上链之前即为真实（《人民法院在线诉讼规则》第十六条、第十八条）。',
    en: 'This verification proves that the records (and the file) existed unchanged since they were anchored; it does not prove that their content is true, nor that the data was authentic before it was put on chain (SPC Online Litigation Rules arts. 16 and 18).',
  },
  {
    zh: '上链前来源（取证方式、环境、时间）为存证人的声明，本核验仅证明其自存证时起未被更改。',
    en: 'Pre-chain provenance (capture method, environment, time) is the depositor\'s statement; this verification shows only that it has not changed since the deposit.',
  },
  {
    zh: '运营者披露为运营者的声明，经其密钥签名；本核验不核对主管部门的登记。',
    en: 'The operator\'s disclosures are its own statement, signed with its key; this verification does not check them against the authorities\' registers.',
  },
  {
    zh: '证据包仅包含其所载事件，不能证明其最后一个事件之后没有其他事件；对整个日志的审计（tianfu audit）可以回答这一问题。',
    en: 'A bundle shows the events it holds; it cannot show that none came after its last one. An audit of the whole log (tianfu audit) answers that.',
  },
];
