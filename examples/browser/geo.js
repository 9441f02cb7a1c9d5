// SPDX-FileCopyrightText: 2026 The offen_core authors
// SPDX-License-Identifier: Apache-2.0
/**
 * A coarse location without asking anyone: the browser's time zone, mapped to a country.
 *
 * Offen records the ISO 3166 alpha-2 country of the visitor's IANA time zone, and nothing when
 * the zone is unknown (UTC, for example). This table covers the most used zones of each
 * country, not all of IANA's zone.tab; a zone missing here simply yields null.
 *
 * @module geo
 */

const ZONES = {
  // Europe
  'EUROPE/AMSTERDAM': 'NL', 'EUROPE/ANDORRA': 'AD', 'EUROPE/ATHENS': 'GR',
  'EUROPE/BELGRADE': 'RS', 'EUROPE/BERLIN': 'DE', 'EUROPE/BRATISLAVA': 'SK',
  'EUROPE/BRUSSELS': 'BE', 'EUROPE/BUCHAREST': 'RO', 'EUROPE/BUDAPEST': 'HU',
  'EUROPE/BUSINGEN': 'DE', 'EUROPE/CHISINAU': 'MD', 'EUROPE/COPENHAGEN': 'DK',
  'EUROPE/DUBLIN': 'IE', 'EUROPE/GIBRALTAR': 'GI', 'EUROPE/HELSINKI': 'FI',
  'EUROPE/ISTANBUL': 'TR', 'EUROPE/KALININGRAD': 'RU', 'EUROPE/KIEV': 'UA',
  'EUROPE/KYIV': 'UA', 'EUROPE/LISBON': 'PT', 'EUROPE/LJUBLJANA': 'SI',
  'EUROPE/LONDON': 'GB', 'EUROPE/LUXEMBOURG': 'LU', 'EUROPE/MADRID': 'ES',
  'EUROPE/MALTA': 'MT', 'EUROPE/MINSK': 'BY', 'EUROPE/MONACO': 'MC', 'EUROPE/MOSCOW': 'RU',
  'EUROPE/OSLO': 'NO', 'EUROPE/PARIS': 'FR', 'EUROPE/PODGORICA': 'ME', 'EUROPE/PRAGUE': 'CZ',
  'EUROPE/RIGA': 'LV', 'EUROPE/ROME': 'IT', 'EUROPE/SAMARA': 'RU', 'EUROPE/SAN_MARINO': 'SM',
  'EUROPE/SARAJEVO': 'BA', 'EUROPE/SKOPJE': 'MK', 'EUROPE/SOFIA': 'BG',
  'EUROPE/STOCKHOLM': 'SE', 'EUROPE/TALLINN': 'EE', 'EUROPE/TIRANE': 'AL',
  'EUROPE/VADUZ': 'LI', 'EUROPE/VATICAN': 'VA', 'EUROPE/VIENNA': 'AT', 'EUROPE/VILNIUS': 'LT',
  'EUROPE/VOLGOGRAD': 'RU', 'EUROPE/WARSAW': 'PL', 'EUROPE/ZAGREB': 'HR', 'EUROPE/ZURICH': 'CH',
  'ATLANTIC/CANARY': 'ES', 'ATLANTIC/MADEIRA': 'PT', 'ATLANTIC/AZORES': 'PT',
  'ATLANTIC/REYKJAVIK': 'IS', 'ATLANTIC/FAROE': 'FO', 'ASIA/NICOSIA': 'CY',
  // Americas
  'AMERICA/NEW_YORK': 'US', 'AMERICA/DETROIT': 'US', 'AMERICA/CHICAGO': 'US',
  'AMERICA/DENVER': 'US', 'AMERICA/PHOENIX': 'US', 'AMERICA/LOS_ANGELES': 'US',
  'AMERICA/ANCHORAGE': 'US', 'AMERICA/BOISE': 'US', 'AMERICA/INDIANA/INDIANAPOLIS': 'US',
  'AMERICA/KENTUCKY/LOUISVILLE': 'US', 'PACIFIC/HONOLULU': 'US', 'AMERICA/PUERTO_RICO': 'PR',
  'AMERICA/TORONTO': 'CA', 'AMERICA/VANCOUVER': 'CA', 'AMERICA/EDMONTON': 'CA',
  'AMERICA/WINNIPEG': 'CA', 'AMERICA/HALIFAX': 'CA', 'AMERICA/ST_JOHNS': 'CA',
  'AMERICA/REGINA': 'CA', 'AMERICA/MEXICO_CITY': 'MX', 'AMERICA/CANCUN': 'MX',
  'AMERICA/MONTERREY': 'MX', 'AMERICA/TIJUANA': 'MX', 'AMERICA/GUATEMALA': 'GT',
  'AMERICA/EL_SALVADOR': 'SV', 'AMERICA/TEGUCIGALPA': 'HN', 'AMERICA/MANAGUA': 'NI',
  'AMERICA/COSTA_RICA': 'CR', 'AMERICA/PANAMA': 'PA', 'AMERICA/HAVANA': 'CU',
  'AMERICA/JAMAICA': 'JM', 'AMERICA/SANTO_DOMINGO': 'DO', 'AMERICA/PORT-AU-PRINCE': 'HT',
  'AMERICA/BOGOTA': 'CO', 'AMERICA/CARACAS': 'VE', 'AMERICA/GUAYAQUIL': 'EC',
  'AMERICA/LIMA': 'PE', 'AMERICA/LA_PAZ': 'BO', 'AMERICA/SANTIAGO': 'CL',
  'AMERICA/ARGENTINA/BUENOS_AIRES': 'AR', 'AMERICA/BUENOS_AIRES': 'AR',
  'AMERICA/MONTEVIDEO': 'UY', 'AMERICA/ASUNCION': 'PY', 'AMERICA/SAO_PAULO': 'BR',
  'AMERICA/MANAUS': 'BR', 'AMERICA/FORTALEZA': 'BR', 'AMERICA/RECIFE': 'BR',
  'AMERICA/BAHIA': 'BR',
  // Asia
  'ASIA/TOKYO': 'JP', 'ASIA/SEOUL': 'KR', 'ASIA/PYONGYANG': 'KP', 'ASIA/SHANGHAI': 'CN',
  'ASIA/HONG_KONG': 'HK', 'ASIA/TAIPEI': 'TW', 'ASIA/MANILA': 'PH', 'ASIA/SINGAPORE': 'SG',
  'ASIA/KUALA_LUMPUR': 'MY', 'ASIA/JAKARTA': 'ID', 'ASIA/BANGKOK': 'TH',
  'ASIA/HO_CHI_MINH': 'VN', 'ASIA/SAIGON': 'VN', 'ASIA/YANGON': 'MM', 'ASIA/DHAKA': 'BD',
  'ASIA/KOLKATA': 'IN', 'ASIA/CALCUTTA': 'IN', 'ASIA/KATHMANDU': 'NP', 'ASIA/COLOMBO': 'LK',
  'ASIA/KARACHI': 'PK', 'ASIA/KABUL': 'AF', 'ASIA/TASHKENT': 'UZ', 'ASIA/ALMATY': 'KZ',
  'ASIA/TEHRAN': 'IR', 'ASIA/BAGHDAD': 'IQ', 'ASIA/RIYADH': 'SA', 'ASIA/DUBAI': 'AE',
  'ASIA/QATAR': 'QA', 'ASIA/KUWAIT': 'KW', 'ASIA/JERUSALEM': 'IL', 'ASIA/BEIRUT': 'LB',
  'ASIA/AMMAN': 'JO', 'ASIA/DAMASCUS': 'SY', 'ASIA/TBILISI': 'GE', 'ASIA/YEREVAN': 'AM',
  'ASIA/BAKU': 'AZ', 'ASIA/YEKATERINBURG': 'RU', 'ASIA/NOVOSIBIRSK': 'RU',
  'ASIA/VLADIVOSTOK': 'RU', 'ASIA/ULAANBAATAR': 'MN',
  // Africa
  'AFRICA/CAIRO': 'EG', 'AFRICA/CASABLANCA': 'MA', 'AFRICA/ALGIERS': 'DZ',
  'AFRICA/TUNIS': 'TN', 'AFRICA/TRIPOLI': 'LY', 'AFRICA/LAGOS': 'NG', 'AFRICA/ACCRA': 'GH',
  'AFRICA/ABIDJAN': 'CI', 'AFRICA/DAKAR': 'SN', 'AFRICA/NAIROBI': 'KE',
  'AFRICA/ADDIS_ABABA': 'ET', 'AFRICA/KAMPALA': 'UG', 'AFRICA/DAR_ES_SALAAM': 'TZ',
  'AFRICA/KHARTOUM': 'SD', 'AFRICA/KINSHASA': 'CD', 'AFRICA/LUANDA': 'AO',
  'AFRICA/HARARE': 'ZW', 'AFRICA/MAPUTO': 'MZ', 'AFRICA/JOHANNESBURG': 'ZA',
  'AFRICA/WINDHOEK': 'NA',
  // Oceania
  'AUSTRALIA/SYDNEY': 'AU', 'AUSTRALIA/MELBOURNE': 'AU', 'AUSTRALIA/BRISBANE': 'AU',
  'AUSTRALIA/ADELAIDE': 'AU', 'AUSTRALIA/PERTH': 'AU', 'AUSTRALIA/HOBART': 'AU',
  'AUSTRALIA/DARWIN': 'AU', 'PACIFIC/AUCKLAND': 'NZ', 'PACIFIC/FIJI': 'FJ',
  'PACIFIC/PORT_MORESBY': 'PG', 'PACIFIC/GUAM': 'GU',
};

/**
 * Maps an IANA time zone name to an ISO 3166 alpha-2 country code.
 *
 * @param {string|null|undefined} timeZone a zone name such as "Europe/Berlin" (any case)
 * @returns {string|null} the country, such as "DE", or null when the zone is not in the table
 */
export function countryForTimeZone(timeZone) {
  if (typeof timeZone !== 'string') {
    return null;
  }
  return Object.hasOwn(ZONES, timeZone.toUpperCase()) ? ZONES[timeZone.toUpperCase()] : null;
}

/**
 * The country of the time zone this browser runs in.
 *
 * @returns {string|null} the country, or null when the zone is unknown or Intl is missing
 */
export function currentCountry() {
  try {
    return countryForTimeZone(Intl.DateTimeFormat().resolvedOptions().timeZone);
  } catch {
    return null;
  }
}
