/**
 * Language tags as media files carry them: Matroska writes ISO 639-2/B codes ("ger", "fre"),
 * MP4 and most tools ISO 639-2/T ("deu", "fra"), hand-made files and subtitle tools sometimes ISO
 * 639-1 ("de") or a BCP 47 tag ("de-AT"). Policies are written in any of these, so every
 * comparison goes through {@link languageKey}, which folds them into one form.
 *
 * @module
 */

/** What a track without a language tag counts as ("undetermined"). */
export const UNDETERMINED = "und";

/**
 * Every ISO 639-1 code with its ISO 639-2/T code, and the /B code after a slash where the two
 * differ (the twenty languages whose bibliographic code was taken from their English name).
 */
const ISO_639_1 = `aa aar ab abk ae ave af afr ak aka am amh an arg ar ara as asm av ava ay aym
az aze ba bak be bel bg bul bh bih bi bis bm bam bn ben bo bod/tib br bre bs bos ca cat ce che
ch cha co cos cr cre cs ces/cze cu chu cv chv cy cym/wel da dan de deu/ger dv div dz dzo ee ewe
el ell/gre en eng eo epo es spa et est eu eus/baq fa fas/per ff ful fi fin fj fij fo fao
fr fra/fre fy fry ga gle gd gla gl glg gn grn gu guj gv glv ha hau he heb hi hin ho hmo hr hrv
ht hat hu hun hy hye/arm hz her ia ina id ind ie ile ig ibo ii iii ik ipk io ido is isl/ice
it ita iu iku ja jpn jv jav ka kat/geo kg kon ki kik kj kua kk kaz kl kal km khm kn kan ko kor
kr kau ks kas ku kur kv kom kw cor ky kir la lat lb ltz lg lug li lim ln lin lo lao lt lit
lu lub lv lav mg mlg mh mah mi mri/mao mk mkd/mac ml mal mn mon mr mar ms msa/may mt mlt
my mya/bur na nau nb nob nd nde ne nep ng ndo nl nld/dut nn nno no nor nr nbl nv nav ny nya
oc oci oj oji om orm or ori os oss pa pan pi pli pl pol ps pus pt por qu que rm roh rn run
ro ron/rum ru rus rw kin sa san sc srd sd snd se sme sg sag si sin sk slk/slo sl slv sm smo
sn sna so som sq sqi/alb sr srp ss ssw st sot su sun sv swe sw swa ta tam te tel tg tgk th tha
ti tir tk tuk tl tgl tn tsn to ton tr tur ts tso tt tat tw twi ty tah ug uig uk ukr ur urd
uz uzb ve ven vi vie vo vol wa wln wo wol xh xho yi yid yo yor za zha zh zho/chi zu zul`;

/** ISO 639-1 and ISO 639-2/B codes to their ISO 639-2/T code. */
const TO_TERMINOLOGICAL: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  const words = ISO_639_1.split(/\s+/);
  for (let i = 0; i < words.length; i += 2) {
    const [terminological, bibliographic] = words[i + 1].split("/");
    map.set(words[i], terminological);
    if (bibliographic) map.set(bibliographic, terminological);
  }
  return map;
})();

/**
 * The form two tags are compared in: lower case, the primary subtag of a BCP 47 tag, an ISO
 * 639-1 or 639-2/B code turned into its ISO 639-2/T code, and {@link UNDETERMINED} for a missing
 * or empty tag. Codes it does not know are returned in lower case as they are.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(languageKey("ger"), languageKey("de-AT"));
 * assert.equal(languageKey(undefined), "und");
 * ```
 */
export function languageKey(tag: string | undefined | null): string {
  const primary = (tag ?? "").trim().toLowerCase().split(/[-_]/)[0];
  if (primary === "") return UNDETERMINED;
  return TO_TERMINOLOGICAL.get(primary) ?? primary;
}

/**
 * The form two whole tags are compared in: {@link languageKey} of the primary subtag, then the
 * other subtags (region, script) in lower case, so that "es-419" keeps what "spa" loses while
 * "en" and "eng" stay the same tag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(languageTagKey("es-419"), "spa-419");
 * assert.equal(languageTagKey("zh-Hans"), languageTagKey("chi-hans"));
 * assert.equal(languageTagKey("en"), languageTagKey("eng"));
 * ```
 */
export function languageTagKey(tag: string | undefined | null): string {
  const [, ...rest] = (tag ?? "").trim().toLowerCase().split(/[-_]/);
  return [languageKey(tag), ...rest].join("-");
}

/** Whether two tags name the same language ("fre", "fra" and "fr" do). */
export function sameLanguage(a: string | undefined | null, b: string | undefined | null): boolean {
  return languageKey(a) === languageKey(b);
}

/** Whether `code` is an ISO 639-1 code this module knows (two-letter codes are checked). */
export function isKnownTwoLetterCode(code: string): boolean {
  return code.length === 2 && TO_TERMINOLOGICAL.has(code.toLowerCase());
}
