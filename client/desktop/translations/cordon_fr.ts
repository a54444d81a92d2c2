<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR">
<context>
    <name>codes</name>
    <message>
        <source>not specified</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>maritime</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>rail</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>road</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>air</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>mail</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>multimodal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>fixed installation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>inland water</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not applicable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>land border</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>seaport</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>airport</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>dry port</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>customs warehouse</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>free zone</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>postal centre</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>express courier centre</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>inland</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>passenger</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cargo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>postal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>express courier</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>risk profiling / targeting</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>intelligence</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>random check</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>X-ray / scanner</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>detector dog</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>routine control</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not concealed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>misdeclared</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>mixed with legitimate goods</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>hidden compartment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>in luggage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>on the person</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>inside a parcel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>other</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>illicit / falsified medicines</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>medical devices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>vaccines</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>personal protective equipment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>IPR-infringing consumer goods</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>other dangerous consumer goods</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>drugs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>tobacco</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>alcohol</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>environment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cultural heritage</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>weapons</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>pieces</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>kilograms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>grams</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>litres</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>millilitres</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>doses</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>tablets</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ampoules</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>packages</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>trademark</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>copyright</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>design</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>patent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>geographical indication</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>express</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>seized</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>detained</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>released</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>inspected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>nothing found</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not inspected</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>use only for the fight against crime</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not as evidence in court without the sender&apos;s permission</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not to be passed on without permission</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>other restrictions (see handling_text)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>reliable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>mostly reliable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not reliable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cannot be assessed</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>known to be true without reservation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>known personally to the source</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not known personally to the source, but corroborated</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>cannot be judged</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Andorra</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>United Arab Emirates</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Afghanistan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Antigua and Barbuda</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Anguilla</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Albania</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Armenia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Angola</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Antarctica</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Argentina</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>American Samoa</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Austria</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Australia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Aruba</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Åland Islands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Azerbaijan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bosnia and Herzegovina</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Barbados</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bangladesh</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Belgium</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Burkina Faso</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bulgaria</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bahrain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Burundi</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Benin</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saint Barthélemy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bermuda</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Brunei Darussalam</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bolivia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bonaire, Sint Eustatius and Saba</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Brazil</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bahamas</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bhutan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Bouvet Island</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Botswana</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Belarus</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Belize</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Canada</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cocos (Keeling) Islands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Congo, The Democratic Republic of the</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Central African Republic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Congo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Switzerland</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Côte d&apos;Ivoire</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cook Islands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chile</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cameroon</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>China</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Colombia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Costa Rica</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cuba</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cabo Verde</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Curaçao</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Christmas Island</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cyprus</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Czechia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Germany</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Djibouti</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Denmark</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dominica</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dominican Republic</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Algeria</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ecuador</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Estonia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Egypt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Western Sahara</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Eritrea</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Spain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ethiopia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Finland</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fiji</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Falkland Islands (Malvinas)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Micronesia, Federated States of</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Faroe Islands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>France</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Gabon</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>United Kingdom</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Grenada</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Georgia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>French Guiana</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Guernsey</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ghana</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Gibraltar</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Greenland</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Gambia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Guinea</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Guadeloupe</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Equatorial Guinea</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Greece</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>South Georgia and the South Sandwich Islands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Guatemala</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Guam</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Guinea-Bissau</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Guyana</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hong Kong</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Heard Island and McDonald Islands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Honduras</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Croatia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Haiti</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Hungary</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Indonesia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ireland</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Israel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Isle of Man</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>India</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>British Indian Ocean Territory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Iraq</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Iran</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Iceland</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Italy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Jersey</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Jamaica</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Jordan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Japan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kenya</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kyrgyzstan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cambodia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kiribati</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Comoros</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saint Kitts and Nevis</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>North Korea</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>South Korea</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kuwait</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cayman Islands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kazakhstan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Laos</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lebanon</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saint Lucia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Liechtenstein</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sri Lanka</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Liberia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lesotho</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Lithuania</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Luxembourg</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Latvia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Libya</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Morocco</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Monaco</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Moldova</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Montenegro</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saint Martin (French part)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Madagascar</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Marshall Islands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>North Macedonia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mali</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Myanmar</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mongolia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Macao</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Northern Mariana Islands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Martinique</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mauritania</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Montserrat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Malta</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mauritius</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Maldives</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Malawi</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mexico</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Malaysia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mozambique</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Namibia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New Caledonia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Niger</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Norfolk Island</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nigeria</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nicaragua</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Netherlands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Norway</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nepal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nauru</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Niue</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>New Zealand</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Oman</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Panama</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Peru</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>French Polynesia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Papua New Guinea</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Philippines</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pakistan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Poland</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saint Pierre and Miquelon</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pitcairn</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Puerto Rico</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Palestine, State of</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Portugal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Palau</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Paraguay</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Qatar</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Réunion</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Romania</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Serbia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Russian Federation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Rwanda</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saudi Arabia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Solomon Islands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Seychelles</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sudan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sweden</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Singapore</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saint Helena, Ascension and Tristan da Cunha</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Slovenia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Svalbard and Jan Mayen</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Slovakia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sierra Leone</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>San Marino</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Senegal</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Somalia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Suriname</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>South Sudan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sao Tome and Principe</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>El Salvador</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sint Maarten (Dutch part)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Syria</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Eswatini</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Turks and Caicos Islands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Chad</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>French Southern Territories</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Togo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Thailand</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tajikistan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tokelau</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Timor-Leste</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Turkmenistan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tunisia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tonga</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Türkiye</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Trinidad and Tobago</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tuvalu</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Taiwan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tanzania</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ukraine</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Uganda</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>United States Minor Outlying Islands</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>United States</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Uruguay</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Uzbekistan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Holy See (Vatican City State)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saint Vincent and the Grenadines</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Venezuela</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Virgin Islands, British</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Virgin Islands, U.S.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Vietnam</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Vanuatu</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Wallis and Futuna</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Samoa</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Yemen</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mayotte</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>South Africa</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zambia</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zimbabwe</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>AED</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>AFN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ALL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>AMD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ANG</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>AOA</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ARS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>AUD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>AWG</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>AZN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BAM</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BBD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BDT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BGN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BHD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BIF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BMD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BND</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BOB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BOV</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BRL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BSD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BTN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BWP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BYN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>BZD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CAD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CDF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CHE</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CHF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CHW</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CLF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CLP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CNY</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>COP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>COU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CRC</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CUC</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CUP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CVE</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>CZK</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>DJF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>DKK</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>DOP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>DZD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>EGP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ERN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ETB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>EUR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>FJD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>FKP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GBP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GEL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GHS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GIP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GMD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GNF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GTQ</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GYD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>HKD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>HNL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>HTG</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>HUF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>IDR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ILS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>INR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>IQD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>IRR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ISK</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>JMD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>JOD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>JPY</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>KES</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>KGS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>KHR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>KMF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>KPW</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>KRW</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>KWD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>KYD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>KZT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LAK</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LBP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LKR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LRD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LSL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>LYD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MAD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MDL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MGA</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MKD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MMK</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MNT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MOP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MRU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MUR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MVR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MWK</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MXN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MXV</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MYR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MZN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NAD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NGN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NIO</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NOK</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NPR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NZD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>OMR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PAB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PEN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PGK</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PHP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PKR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PLN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PYG</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>QAR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>RON</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>RSD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>RUB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>RWF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SAR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SBD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SCR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SDG</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SEK</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SGD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SHP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SLE</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SLL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SOS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SRD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SSP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>STN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SVC</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SYP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SZL</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>THB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>TJS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>TMT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>TND</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>TOP</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>TRY</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>TTD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>TWD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>TZS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>UAH</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>UGX</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>USD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>USN</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>UYI</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>UYU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>UYW</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>UZS</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VED</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VES</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VND</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>VUV</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>WST</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XAF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XAG</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XAU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XBA</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XBB</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XBC</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XBD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XCD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XCG</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XDR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XOF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XPD</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XPF</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XPT</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XSU</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>XUA</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>YER</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ZAR</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ZMW</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ZWG</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ZWL</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>fields</name>
    <message>
        <source>Summary</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Commodity category</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>HS code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Risk indicators (one per line)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mode of transport</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Conveyance</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Country of origin</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Country of departure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Transit countries</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Country of destination</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>E-commerce</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Valid until</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Related alert ids</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Handling code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Handling restrictions (H3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Evaluation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Warning id</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Remarks</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Seizure date</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Country</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Place (customs office)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>UN/LOCODE</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Type of location</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Detection method</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Concealment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Concealment details</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Platform or website</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Consignment type</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Small consignment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Outcome status</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Category</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Description</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Unit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Estimated value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Currency</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Brand</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Right holder</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>IPR type</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Title</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Text</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Amended alert id</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Reason</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Kind of the amended alert</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Withdrawn alert id</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>kinds</name>
    <message>
        <source>Warning</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Feedback</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Seizure</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Notice</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Amendment</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Withdrawal</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>roles</name>
    <message>
        <source>reader</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>contributor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>coordinator</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>
