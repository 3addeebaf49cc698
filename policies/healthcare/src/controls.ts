/**
 * The regulatory controls the pack's rules implement: sections of the HIPAA Security Rule (45 CFR
 * Part 164, Subpart C) and articles of the LGPD (Lei nº 13.709/2018). Every rule names the controls
 * it implements and the AWS / Kubernetes documentation of the setting it checks; the offline plan's
 * evidence report is organised by these controls. Section numbers and titles were checked against
 * the regulation texts listed in the pack README ("Controls").
 */

/** A section of the HIPAA Security Rule a rule can implement. */
export interface HipaaSection {
  /** The standard or implementation specification, as 45 CFR names it. */
  readonly title: string;
  /** Where the text was checked. */
  readonly source: string;
}

const CFR_306 = "https://www.govregs.com/regulations/title45_chapterA_part164_subpartC_section164.306";
const CFR_308 = "https://www.law.cornell.edu/cfr/text/45/164.308";
const CFR_312 =
  "https://www.govinfo.gov/content/pkg/CFR-2019-title45-vol2/xml/CFR-2019-title45-vol2-sec164-312.xml";
const CFR_316 = "https://law.lawstack.com/cfr/45/164.316/";

/** HIPAA Security Rule sections (45 CFR §164.3xx) rules refer to. */
export const HIPAA_SECTIONS = {
  "164.306(a)(1)": {
    title: "General requirements: ensure the confidentiality, integrity and availability of all ePHI",
    source: CFR_306,
  },
  "164.308(a)(1)(ii)(A)": { title: "Risk analysis (Required)", source: CFR_308 },
  "164.308(a)(1)(ii)(B)": { title: "Risk management (Required)", source: CFR_308 },
  "164.308(a)(1)(ii)(D)": { title: "Information system activity review (Required)", source: CFR_308 },
  "164.308(a)(4)": { title: "Standard: Information access management", source: CFR_308 },
  "164.308(a)(7)(ii)(A)": { title: "Contingency plan: data backup plan (Required)", source: CFR_308 },
  "164.308(a)(7)(ii)(B)": { title: "Contingency plan: disaster recovery plan (Required)", source: CFR_308 },
  "164.308(a)(8)": { title: "Standard: Evaluation", source: CFR_308 },
  "164.312(a)(1)": { title: "Standard: Access control", source: CFR_312 },
  "164.312(a)(2)(iv)": { title: "Encryption and decryption (Addressable)", source: CFR_312 },
  "164.312(b)": { title: "Standard: Audit controls", source: CFR_312 },
  "164.312(c)(1)": {
    title: "Standard: Integrity (protect ePHI from improper alteration or destruction)",
    source: CFR_312,
  },
  "164.312(d)": { title: "Standard: Person or entity authentication", source: CFR_312 },
  "164.312(e)(1)": { title: "Standard: Transmission security", source: CFR_312 },
  "164.312(e)(2)(ii)": { title: "Transmission security: encryption (Addressable)", source: CFR_312 },
  "164.316(b)(2)(i)": { title: "Documentation: time limit, retain 6 years (Required)", source: CFR_316 },
} as const satisfies Readonly<Record<string, HipaaSection>>;
export type HipaaSectionId = keyof typeof HIPAA_SECTIONS;

/** An article (or paragraph) of the LGPD a rule can implement. */
export interface LgpdArticle {
  readonly title: string;
  readonly source: string;
}

const LGPD = "https://www.planalto.gov.br/ccivil_03/_ato2015-2018/2018/lei/l13709.htm";

/** LGPD articles rules refer to. */
export const LGPD_ARTICLES = {
  "Art. 6 VII": { title: "Principle of security (segurança)", source: LGPD },
  "Art. 6 X": {
    title: "Principle of accountability (responsabilização e prestação de contas)",
    source: LGPD,
  },
  "Art. 33": { title: "International transfer of personal data: only in the listed cases", source: LGPD },
  "Art. 37": { title: "Controller and operator keep records of their processing operations", source: LGPD },
  "Art. 46": {
    title:
      "Technical and administrative security measures against unauthorised access, destruction, loss, alteration",
    source: LGPD,
  },
  "Art. 48 §3": {
    title: "Incident severity weighs whether the affected data was made unintelligible (e.g. encrypted)",
    source: LGPD,
  },
  "Art. 49": {
    title:
      "Systems that process personal data are structured to meet security requirements and good practices",
    source: LGPD,
  },
} as const satisfies Readonly<Record<string, LgpdArticle>>;
export type LgpdArticleId = keyof typeof LGPD_ARTICLES;

/** The controls a rule implements, and the documentation of the setting it checks. */
export interface RuleControls {
  /** HIPAA Security Rule sections the rule implements (may be empty, e.g. residency). */
  readonly hipaa: readonly HipaaSectionId[];
  /** LGPD articles the rule implements (may be empty). */
  readonly lgpd: readonly LgpdArticleId[];
  /** AWS / Kubernetes / tool documentation of the setting the rule checks (https URLs). */
  readonly docs: readonly string[];
}

/** A control as reports show it. */
export interface Control {
  /** `HIPAA §164.312(e)(1)` or `LGPD Art. 46`: how reports and PR comments name it. */
  readonly id: string;
  readonly framework: "HIPAA" | "LGPD";
  /** `164.312(e)(1)` or `Art. 46`. */
  readonly section: string;
  readonly title: string;
  readonly source: string;
}

/** The display id of a HIPAA section. */
export function hipaaControl(section: HipaaSectionId): Control {
  return { id: `HIPAA §${section}`, framework: "HIPAA", section, ...HIPAA_SECTIONS[section] };
}

/** The display id of an LGPD article. */
export function lgpdControl(article: LgpdArticleId): Control {
  return { id: `LGPD ${article}`, framework: "LGPD", section: article, ...LGPD_ARTICLES[article] };
}

/** The controls of a rule, HIPAA first, in declaration order. */
export function controlsOf(controls: RuleControls | undefined): Control[] {
  return controls ? [...controls.hipaa.map(hipaaControl), ...controls.lgpd.map(lgpdControl)] : [];
}

/** Every control a rule may name, in report order (HIPAA by section, then LGPD by article). */
export const ALL_CONTROLS: readonly Control[] = [
  ...(Object.keys(HIPAA_SECTIONS) as HipaaSectionId[]).map(hipaaControl),
  ...(Object.keys(LGPD_ARTICLES) as LgpdArticleId[]).map(lgpdControl),
];
