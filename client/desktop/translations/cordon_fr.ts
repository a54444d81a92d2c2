<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fr_FR">
<context>
    <name>ChannelListModel</name>
    <message>
        <source>{0} unread</source>
        <translation>{0} non lues</translation>
    </message>
</context>
<context>
    <name>ComposeDialog</name>
    <message>
        <source>required</source>
        <translation>obligatoire</translation>
    </message>
    <message>
        <source>must not be empty</source>
        <translation>ne doit pas être vide</translation>
    </message>
    <message>
        <source>unknown field</source>
        <translation>champ inconnu</translation>
    </message>
    <message>
        <source>— choose —</source>
        <translation>— choisir —</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>Canal</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>Fermer</translation>
    </message>
    <message>
        <source>Sign and send</source>
        <translation>Signer et envoyer</translation>
    </message>
    <message>
        <source>Attach photo</source>
        <translation>Joindre une photo</translation>
    </message>
    <message>
        <source>Photos (*.jpg *.jpeg *.png)</source>
        <translation>Photos (*.jpg *.jpeg *.png)</translation>
    </message>
    <message>
        <source>Discard this alert?</source>
        <translation>Abandonner cette alerte ?</translation>
    </message>
    <message>
        <source>This form has changes that were not sent. Close it and lose them?</source>
        <translation>Ce formulaire contient des modifications non envoyées. Le fermer et les perdre ?</translation>
    </message>
    <message>
        <source>Reason for the amendment</source>
        <translation>Motif de la modification</translation>
    </message>
    <message>
        <source>alert</source>
        <translation>alerte</translation>
    </message>
    <message>
        <source>Signed with your key; waiting for the hub…</source>
        <translation>Signée avec votre clé ; en attente du hub…</translation>
    </message>
    <message>
        <source>Done</source>
        <translation>Terminé</translation>
    </message>
    <message>
        <source>Attach photo…</source>
        <translation>Joindre une photo…</translation>
    </message>
    <message>
        <source>✔ Stored by the hub at offset {0}</source>
        <translation>✔ Enregistrée par le hub à la position {0}</translation>
    </message>
    <message>
        <source>(already stored earlier)</source>
        <translation>(déjà enregistrée)</translation>
    </message>
    <message>
        <source>source reliability</source>
        <translation>fiabilité de la source</translation>
    </message>
    <message>
        <source>information accuracy</source>
        <translation>exactitude de l&apos;information</translation>
    </message>
    <message>
        <source>Amend {0} {1}</source>
        <translation>Modifier : {0} {1}</translation>
    </message>
    <message>
        <source>New {0}</source>
        <translation>Nouveau : {0}</translation>
    </message>
    <message>
        <source>Add goods line</source>
        <translation>Ajouter une ligne</translation>
    </message>
    <message>
        <source>Remove line</source>
        <translation>Supprimer la ligne</translation>
    </message>
    <message>
        <source>✖ Not sent: {0}</source>
        <translation>✖ Non envoyée : {0}</translation>
    </message>
    <message>
        <source>… and {0} more</source>
        <translation>… et {0} autres</translation>
    </message>
    <message>
        <source>Goods</source>
        <translation>Marchandises</translation>
    </message>
    <message>
        <source>Photos</source>
        <translation>Photos</translation>
    </message>
    <message>
        <source>goods line {0}</source>
        <translation>ligne de marchandise {0}</translation>
    </message>
    <message>
        <source>alert ids, comma separated</source>
        <translation>identifiants d&apos;alertes, séparés par des virgules</translation>
    </message>
</context>
<context>
    <name>ConnectionStatus</name>
    <message>
        <source>Online</source>
        <translation>En ligne</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Connexion…</translation>
    </message>
    <message>
        <source>Reconnecting…</source>
        <translation>Reconnexion…</translation>
    </message>
    <message>
        <source>Offline (cached history)</source>
        <translation>Hors ligne (historique local)</translation>
    </message>
    <message>
        <source>Refused by the hub</source>
        <translation>Refusé par le hub</translation>
    </message>
</context>
<context>
    <name>Dashboard</name>
    <message>
        <source>Operation dashboard</source>
        <translation>Tableau de bord de l&apos;opération</translation>
    </message>
    <message>
        <source>No cases yet</source>
        <translation>Aucun cas pour le moment</translation>
    </message>
    <message>
        <source>Cases</source>
        <translation>Cas</translation>
    </message>
    <message>
        <source>Reporting administrations</source>
        <translation>Administrations déclarantes</translation>
    </message>
    <message>
        <source>E-commerce share</source>
        <translation>Part du commerce électronique</translation>
    </message>
    <message>
        <source>Items seized</source>
        <translation>Articles saisis</translation>
    </message>
    <message>
        <source>INCOMPLETE — these figures cover only {0} of the channel&apos;s {1} alerts ({2:.0%}); the rest of the history is being fetched. Do not quote them yet.</source>
        <translation>INCOMPLET — ces chiffres ne portent que sur {0} des {1} alertes du canal ({2:.0%}) ; la suite de l&apos;historique est en cours de téléchargement. Ne les citez pas encore.</translation>
    </message>
    <message>
        <source>Cases per day</source>
        <translation>Cas par jour</translation>
    </message>
    <message>
        <source>Detection</source>
        <translation>Détection</translation>
    </message>
    <message>
        <source>{0} alert(s) failed the signature or schema check and are not counted.</source>
        <translation>{0} alerte(s) ont échoué à la vérification de signature ou de schéma et ne sont pas comptées.</translation>
    </message>
    <message>
        <source>Top routes</source>
        <translation>Principaux itinéraires</translation>
    </message>
    <message>
        <source>Items by category</source>
        <translation>Articles par catégorie</translation>
    </message>
</context>
<context>
    <name>DetailPane</name>
    <message>
        <source>Alert id</source>
        <translation>Identifiant de l&apos;alerte</translation>
    </message>
    <message>
        <source>Sender</source>
        <translation>Expéditeur</translation>
    </message>
    <message>
        <source>Signed at</source>
        <translation>Signée le</translation>
    </message>
    <message>
        <source>Channel / offset</source>
        <translation>Canal / position</translation>
    </message>
    <message>
        <source>Select an alert to see every field.</source>
        <translation>Sélectionnez une alerte pour voir tous ses champs.</translation>
    </message>
    <message>
        <source>loading…</source>
        <translation>chargement…</translation>
    </message>
    <message>
        <source>unavailable</source>
        <translation>indisponible</translation>
    </message>
    <message>
        <source>withdrawn</source>
        <translation>retirée</translation>
    </message>
    <message>
        <source>Photo {0}</source>
        <translation>Photo {0}</translation>
    </message>
    <message>
        <source>History of changes</source>
        <translation>Historique des modifications</translation>
    </message>
    <message>
        <source>Goods</source>
        <translation>Marchandises</translation>
    </message>
    <message>
        <source>Thread</source>
        <translation>Fil</translation>
    </message>
    <message>
        <source>Reason: {0}</source>
        <translation>Motif : {0}</translation>
    </message>
    <message>
        <source>AMENDED {0} time(s): the current record is shown</source>
        <translation>MODIFIÉE {0} fois : la version en vigueur est affichée</translation>
    </message>
    <message>
        <source>Feedback</source>
        <translation>Retours</translation>
    </message>
    <message>
        <source>✔ Signature verified: sent by {0}</source>
        <translation>✔ Signature vérifiée : envoyée par {0}</translation>
    </message>
    <message>
        <source>✖ SIGNATURE CHECK FAILED — do not trust this alert</source>
        <translation>✖ ÉCHEC DE LA VÉRIFICATION DE SIGNATURE — ne vous fiez pas à cette alerte</translation>
    </message>
    <message>
        <source>Claims to be from {0}. Reason: {1}</source>
        <translation>Se présente comme venant de {0}. Motif : {1}</translation>
    </message>
    <message>
        <source>Changed: {0}</source>
        <translation>Champs modifiés : {0}</translation>
    </message>
    <message>
        <source>WITHDRAWN by {0} on {1} — not counted in any figure</source>
        <translation>RETIRÉE par {0} le {1} — exclue de tous les chiffres</translation>
    </message>
</context>
<context>
    <name>FeedModel</name>
    <message>
        <source>Time</source>
        <translation>Heure</translation>
    </message>
    <message>
        <source>Signature</source>
        <translation>Signature</translation>
    </message>
    <message>
        <source>Sender</source>
        <translation>Expéditeur</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Type</translation>
    </message>
    <message>
        <source>Commodity</source>
        <translation>Marchandise</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>Quantité</translation>
    </message>
    <message>
        <source>Place</source>
        <translation>Lieu</translation>
    </message>
    <message>
        <source>E-com.</source>
        <translation>E-comm.</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>oui</translation>
    </message>
    <message>
        <source>no</source>
        <translation>non</translation>
    </message>
    <message>
        <source>✖ FAILED</source>
        <translation>✖ ÉCHEC</translation>
    </message>
    <message>
        <source>⚠ CHAIN BROKEN</source>
        <translation>⚠ CHAÎNE ROMPUE</translation>
    </message>
    <message>
        <source>✔ Verified</source>
        <translation>✔ Vérifiée</translation>
    </message>
    <message>
        <source>failed the signature check</source>
        <translation>a échoué à la vérification de signature</translation>
    </message>
    <message>
        <source>sender chain broken: alerts withheld or reordered</source>
        <translation>chaîne de l’émetteur rompue : alertes retenues ou réordonnées</translation>
    </message>
    <message>
        <source>awaiting our feedback</source>
        <translation>attend notre retour</translation>
    </message>
    <message>
        <source>answered by {0}</source>
        <translation>réponse de {0}</translation>
    </message>
    <message>
        <source>withdrawn</source>
        <translation>retirée</translation>
    </message>
    <message>
        <source>amended</source>
        <translation>modifiée</translation>
    </message>
    <message>
        <source>Signature check failed: {0}</source>
        <translation>Échec de la vérification de signature : {0}</translation>
    </message>
    <message>
        <source>{0} feedback</source>
        <translation>{0} retour(s)</translation>
    </message>
    <message>
        <source>Sender chain broken ({0}): {1}</source>
        <translation>Chaîne de l’émetteur rompue ({0}) : {1}</translation>
    </message>
    <message>
        <source>Needs action: {0}</source>
        <translation>À traiter : {0}</translation>
    </message>
    <message>
        <source>Withdrawn: {0}</source>
        <translation>Retirée : {0}</translation>
    </message>
</context>
<context>
    <name>Integrity</name>
    <message>
        <source>Log verified</source>
        <translation>Journal vérifié</translation>
    </message>
    <message>
        <source>The hub signed this channel&apos;s log and your copy agrees with it. Read the fingerprint to another member by phone to be sure you were both shown the same.</source>
        <translation>Le hub a signé le journal de ce canal et votre copie y est conforme. Lisez l&apos;empreinte à un autre membre par téléphone pour vérifier qu&apos;on vous a montré la même chose.</translation>
    </message>
    <message>
        <source>Signature failed</source>
        <translation>Signature invalide</translation>
    </message>
    <message>
        <source>An alert&apos;s bytes or signer do not verify: it may be forged. Do not act on it; report it to the hub&apos;s administrator.</source>
        <translation>Les octets ou le signataire d&apos;une alerte ne se vérifient pas : elle peut être falsifiée. N&apos;agissez pas sur elle ; signalez-la à l&apos;administrateur du hub.</translation>
    </message>
    <message>
        <source>Unchained</source>
        <translation>Sans chaîne</translation>
    </message>
    <message>
        <source>Signed, but without a sender chain: its withholding could not be detected. Nothing to do unless the sender should be chaining.</source>
        <translation>Signée, mais sans chaîne d&apos;émetteur : sa rétention ne pourrait pas être détectée. Rien à faire, sauf si l&apos;émetteur devrait chaîner.</translation>
    </message>
    <message>
        <source>Chain gap</source>
        <translation>Chaîne : lacune</translation>
    </message>
    <message>
        <source>Alerts of this sender were withheld from you. Ask the sender what you missed; report it to the hub&apos;s administrator.</source>
        <translation>Des alertes de cet émetteur vous ont été cachées. Demandez à l&apos;émetteur ce qui vous manque ; signalez-le à l&apos;administrateur du hub.</translation>
    </message>
    <message>
        <source>Chain reorder</source>
        <translation>Chaîne : ordre modifié</translation>
    </message>
    <message>
        <source>An alert of this sender was held back and shown late. Check what it changes; report it.</source>
        <translation>Une alerte de cet émetteur a été retenue puis montrée en retard. Vérifiez ce qu&apos;elle change ; signalez-le.</translation>
    </message>
    <message>
        <source>Chain duplicate</source>
        <translation>Chaîne : doublon</translation>
    </message>
    <message>
        <source>The history shows an alert twice. Count it once; report it.</source>
        <translation>L&apos;historique montre une alerte deux fois. Comptez-la une fois ; signalez-le.</translation>
    </message>
    <message>
        <source>Chain fork</source>
        <translation>Chaîne : bifurcation</translation>
    </message>
    <message>
        <source>This sender has two different histories: the hub shows members different things, or the sender signed twice. Call the sender; report it.</source>
        <translation>Cet émetteur a deux historiques différents : le hub montre des choses différentes aux membres, ou l&apos;émetteur a signé deux fois. Appelez l&apos;émetteur ; signalez-le.</translation>
    </message>
    <message>
        <source>Checkpoint failed</source>
        <translation>Point de contrôle invalide</translation>
    </message>
    <message>
        <source>The hub&apos;s signed checkpoint does not verify (signature, log key, certificate): this log is not proven. Report it to the hub&apos;s administrator.</source>
        <translation>Le point de contrôle signé du hub ne se vérifie pas (signature, clé du journal, certificat) : ce journal n&apos;est pas prouvé. Signalez-le à l&apos;administrateur du hub.</translation>
    </message>
    <message>
        <source>Log inconsistent (equivocation)</source>
        <translation>Journal incohérent (équivoque)</translation>
    </message>
    <message>
        <source>The hub signed two different histories of this channel. Compare fingerprints with another member by phone and report it at once; keep your copy.</source>
        <translation>Le hub a signé deux historiques différents de ce canal. Comparez les empreintes avec un autre membre par téléphone et signalez-le immédiatement ; gardez votre copie.</translation>
    </message>
    <message>
        <source>Your copy differs</source>
        <translation>Votre copie diffère</translation>
    </message>
    <message>
        <source>What the hub showed you is not the log it signed. Report it at once; do not rely on the channel until it is explained.</source>
        <translation>Ce que le hub vous a montré n&apos;est pas le journal qu&apos;il a signé. Signalez-le immédiatement ; ne vous fiez pas au canal tant que ce n&apos;est pas expliqué.</translation>
    </message>
    <message>
        <source>Log not signed</source>
        <translation>Journal non signé</translation>
    </message>
    <message>
        <source>The hub has no signed checkpoint of this channel (yet, or it signs none): withholding or equivocation cannot be detected beyond the sender chains.</source>
        <translation>Le hub n&apos;a pas (encore, ou ne produit pas) de point de contrôle signé de ce canal : la rétention ou l&apos;équivoque ne peuvent être détectées au-delà des chaînes d&apos;émetteurs.</translation>
    </message>
    <message>
        <source>What the warnings mean</source>
        <translation>Que signifient les avertissements</translation>
    </message>
    <message>
        <source>Signed log: not checked yet</source>
        <translation>Journal signé : pas encore vérifié</translation>
    </message>
    <message>
        <source>your copy agrees</source>
        <translation>votre copie est conforme</translation>
    </message>
    <message>
        <source>your copy not compared yet</source>
        <translation>votre copie n&apos;est pas encore comparée</translation>
    </message>
    <message>
        <source>Signed log: {0}</source>
        <translation>Journal signé : {0}</translation>
    </message>
    <message>
        <source>Verification states</source>
        <translation>États de vérification</translation>
    </message>
    <message>
        <source>Signed log: {0} alerts, fingerprint {1}, signed {2} — {3}</source>
        <translation>Journal signé : {0} alertes, empreinte {1}, signé {2} — {3}</translation>
    </message>
    <message>
        <source>⚠ {0} alert(s) in this channel FAILED the signature check: they may be forged. Rows in red.</source>
        <translation>⚠ {0} alerte(s) de ce canal ont ÉCHOUÉ à la vérification de signature : elles peuvent être falsifiées. Lignes en rouge.</translation>
    </message>
    <message>
        <source>⚠ {0} alert(s) in this channel show a BROKEN SENDER CHAIN ({1}). Rows in red.</source>
        <translation>⚠ {0} alerte(s) de ce canal montrent une CHAÎNE D&apos;ÉMETTEUR ROMPUE ({1}). Lignes en rouge.</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Actions</source>
        <translation>Actions</translation>
    </message>
    <message>
        <source>New alert</source>
        <translation>Nouvelle alerte</translation>
    </message>
    <message>
        <source>Reply with feedback</source>
        <translation>Répondre par un retour</translation>
    </message>
    <message>
        <source>Amend…</source>
        <translation>Modifier…</translation>
    </message>
    <message>
        <source>Correct the selected record of your administration</source>
        <translation>Corriger l&apos;enregistrement sélectionné de votre administration</translation>
    </message>
    <message>
        <source>Withdraw…</source>
        <translation>Retirer…</translation>
    </message>
    <message>
        <source>Withdraw the selected record of your administration</source>
        <translation>Retirer l&apos;enregistrement sélectionné de votre administration</translation>
    </message>
    <message>
        <source>Permit as evidence…</source>
        <translation>Autoriser comme preuve…</translation>
    </message>
    <message>
        <source>Permit the selected record of your administration (handling H1, H2 or H3) to be passed on and used as evidence: publishes your administration&apos;s permission</source>
        <translation>Autoriser la transmission et l&apos;usage comme preuve de l&apos;enregistrement sélectionné de votre administration (code H1, H2 ou H3) : publie l&apos;autorisation de votre administration</translation>
    </message>
    <message>
        <source>Export evidence…</source>
        <translation>Exporter une preuve…</translation>
    </message>
    <message>
        <source>Write the selected alert, with the proof that the channel&apos;s log contained it, to one file anyone can check offline (cordon evidence verify)</source>
        <translation>Écrire l&apos;alerte sélectionnée, avec la preuve que le journal du canal la contenait, dans un fichier que chacun peut vérifier hors ligne (cordon evidence verify)</translation>
    </message>
    <message>
        <source>Needs action</source>
        <translation>À traiter</translation>
    </message>
    <message>
        <source>Only warnings awaiting our feedback, alerts that failed the signature check and our alerts that others answered</source>
        <translation>Seulement les avertissements qui attendent notre retour, les alertes dont la signature a échoué et nos alertes auxquelles d&apos;autres ont répondu</translation>
    </message>
    <message>
        <source>Newest first</source>
        <translation>Plus récentes d&apos;abord</translation>
    </message>
    <message>
        <source>Load older</source>
        <translation>Plus anciennes</translation>
    </message>
    <message>
        <source>Export CSV…</source>
        <translation>Exporter en CSV…</translation>
    </message>
    <message>
        <source>Dashboard</source>
        <translation>Tableau de bord</translation>
    </message>
    <message>
        <source>What the warnings mean</source>
        <translation>Que signifient les avertissements</translation>
    </message>
    <message>
        <source>Load older alerts</source>
        <translation>Charger des alertes plus anciennes</translation>
    </message>
    <message>
        <source>All kinds</source>
        <translation>Tous les types</translation>
    </message>
    <message>
        <source>Sender</source>
        <translation>Expéditeur</translation>
    </message>
    <message>
        <source>All commodities</source>
        <translation>Toutes les marchandises</translation>
    </message>
    <message>
        <source>All countries</source>
        <translation>Tous les pays</translation>
    </message>
    <message>
        <source>Search…</source>
        <translation>Rechercher…</translation>
    </message>
    <message>
        <source>Permit as evidence</source>
        <translation>Autoriser comme preuve</translation>
    </message>
    <message>
        <source>Export evidence</source>
        <translation>Exporter une preuve</translation>
    </message>
    <message>
        <source>Exporting evidence…</source>
        <translation>Export de la preuve…</translation>
    </message>
    <message>
        <source>Export visible rows</source>
        <translation>Exporter les lignes affichées</translation>
    </message>
    <message>
        <source>Alerts</source>
        <translation>Alertes</translation>
    </message>
    <message>
        <source>Channels</source>
        <translation>Canaux</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Type</translation>
    </message>
    <message>
        <source>Commodity</source>
        <translation>Marchandise</translation>
    </message>
    <message>
        <source>Country</source>
        <translation>Pays</translation>
    </message>
    <message>
        <source>E-commerce</source>
        <translation>Commerce électronique</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>Recherche</translation>
    </message>
    <message>
        <source>E-commerce: any</source>
        <translation>Commerce électronique : tous</translation>
    </message>
    <message>
        <source>E-commerce only</source>
        <translation>Commerce électronique seulement</translation>
    </message>
    <message>
        <source>Not e-commerce</source>
        <translation>Hors commerce électronique</translation>
    </message>
    <message>
        <source>Cordon desk — {0}</source>
        <translation>Cordon desk — {0}</translation>
    </message>
    <message>
        <source>Beginning of the channel</source>
        <translation>Début du canal</translation>
    </message>
    <message>
        <source>{0} shown of {1}</source>
        <translation>{0} affichées sur {1}</translation>
    </message>
    <message>
        <source>Needs action ({0})</source>
        <translation>À traiter ({0})</translation>
    </message>
    <message>
        <source>Permit {0} ({1}) to be passed on and used as evidence? Anyone holding an evidence bundle of it can then show it in court.</source>
        <translation>Autoriser la transmission et l&apos;usage comme preuve de {0} ({1}) ? Quiconque en détient un dossier de preuve pourra alors le produire en justice.</translation>
    </message>
    <message>
        <source>Permission for {0} sent</source>
        <translation>Autorisation pour {0} envoyée</translation>
    </message>
    <message>
        <source>{0} rows exported to {1}</source>
        <translation>{0} lignes exportées vers {1}</translation>
    </message>
    <message>
        <source>Computed on this machine from {0} verified-history alerts, as cordon report does.</source>
        <translation>Calculé sur ce poste à partir de {0} alertes de l&apos;historique vérifié, comme cordon report.</translation>
    </message>
    <message>
        <source>Evidence written to {0}: {1}</source>
        <translation>Preuve écrite dans {0} : {1}</translation>
    </message>
    <message>
        <source>Evidence not exported: {0}</source>
        <translation>Preuve non exportée : {0}</translation>
    </message>
    <message>
        <source>Whole history on this machine: {0} alerts</source>
        <translation>Historique complet sur ce poste : {0} alertes</translation>
    </message>
    <message>
        <source>Fetching the history: {0} of {1} alerts</source>
        <translation>Téléchargement de l&apos;historique : {0} alertes sur {1}</translation>
    </message>
    <message>
        <source>New warning from {0}</source>
        <translation>Nouvel avertissement de {0}</translation>
    </message>
    <message>
        <source>⚠ Unverified warning claiming to be from {0}</source>
        <translation>⚠ Avertissement non vérifié se présentant comme venant de {0}</translation>
    </message>
</context>
<context>
    <name>SetupDialog</name>
    <message>
        <source>Passphrase</source>
        <translation>Phrase secrète</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Parcourir…</translation>
    </message>
    <message>
        <source>Choose a file</source>
        <translation>Choisir un fichier</translation>
    </message>
    <message>
        <source>Connect to a Cordon hub</source>
        <translation>Se connecter à un hub Cordon</translation>
    </message>
    <message>
        <source>Enter the hub address given by your secretariat and choose your credentials. Passphrases are never stored.</source>
        <translation>Saisissez l&apos;adresse du hub fournie par votre secrétariat et choisissez vos identifiants. Les phrases secrètes ne sont jamais enregistrées.</translation>
    </message>
    <message>
        <source>Hub address</source>
        <translation>Adresse du hub</translation>
    </message>
    <message>
        <source>Hub CA certificate</source>
        <translation>Certificat de l&apos;AC du hub</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>Langue du système</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>Langue</translation>
    </message>
    <message>
        <source>Certificate</source>
        <translation>Certificat</translation>
    </message>
    <message>
        <source>Private key</source>
        <translation>Clé privée</translation>
    </message>
    <message>
        <source>member/name, e.g. fr/ops</source>
        <translation>membre/nom, par ex. fr/ops</translation>
    </message>
    <message>
        <source>Create my key and request…</source>
        <translation>Créer ma clé et ma demande…</translation>
    </message>
    <message>
        <source>No credentials yet?</source>
        <translation>Pas encore d&apos;identifiants ?</translation>
    </message>
    <message>
        <source>PKCS#12 file</source>
        <translation>Fichier PKCS#12</translation>
    </message>
    <message>
        <source>PEM key and certificate</source>
        <translation>Clé et certificat PEM</translation>
    </message>
    <message>
        <source>Test connection</source>
        <translation>Tester la connexion</translation>
    </message>
    <message>
        <source>Connecting…</source>
        <translation>Connexion…</translation>
    </message>
    <message>
        <source>Where to keep your key and request</source>
        <translation>Où conserver votre clé et votre demande</translation>
    </message>
    <message>
        <source>The hub address starts with wss://</source>
        <translation>L&apos;adresse du hub commence par wss://</translation>
    </message>
    <message>
        <source>Passphrase for {0}:</source>
        <translation>Phrase secrète pour {0} :</translation>
    </message>
    <message>
        <source>Connected as {0}: {1} channel(s)</source>
        <translation>Connecté en tant que {0} : {1} canal(aux)</translation>
    </message>
    <message>
        <source>Enter who you are as member/name, e.g. fr/ops.</source>
        <translation>Indiquez qui vous êtes sous la forme membre/nom, par ex. fr/ops.</translation>
    </message>
    <message>
        <source>Your private key is {0}: it stays on this computer, readable only by you. Send the request {1} to your hub administrator; choose the certificate they send back above, with the hub&apos;s CA certificate.</source>
        <translation>Votre clé privée est {0} : elle reste sur cet ordinateur, lisible par vous seul. Envoyez la demande {1} à l&apos;administrateur du hub ; choisissez ci-dessus le certificat qu&apos;il vous renvoie, avec le certificat de l&apos;AC du hub.</translation>
    </message>
    <message>
        <source>Choose the CA certificate and your credentials.</source>
        <translation>Choisissez le certificat de l&apos;AC et vos identifiants.</translation>
    </message>
    <message>
        <source>These settings did not work: {0}</source>
        <translation>Ces paramètres n&apos;ont pas fonctionné : {0}</translation>
    </message>
    <message>
        <source>Cannot create the key: {0}</source>
        <translation>Impossible de créer la clé : {0}</translation>
    </message>
</context>
<context>
    <name>codes</name>
    <message>
        <source>not specified</source>
        <translation>non précisé</translation>
    </message>
    <message>
        <source>maritime</source>
        <translation>maritime</translation>
    </message>
    <message>
        <source>rail</source>
        <translation>ferroviaire</translation>
    </message>
    <message>
        <source>road</source>
        <translation>routier</translation>
    </message>
    <message>
        <source>air</source>
        <translation>aérien</translation>
    </message>
    <message>
        <source>mail</source>
        <translation>postal</translation>
    </message>
    <message>
        <source>multimodal</source>
        <translation>multimodal</translation>
    </message>
    <message>
        <source>fixed installation</source>
        <translation>installation fixe</translation>
    </message>
    <message>
        <source>inland water</source>
        <translation>voie navigable intérieure</translation>
    </message>
    <message>
        <source>not applicable</source>
        <translation>sans objet</translation>
    </message>
    <message>
        <source>land border</source>
        <translation>frontière terrestre</translation>
    </message>
    <message>
        <source>seaport</source>
        <translation>port maritime</translation>
    </message>
    <message>
        <source>airport</source>
        <translation>aéroport</translation>
    </message>
    <message>
        <source>dry port</source>
        <translation>port sec</translation>
    </message>
    <message>
        <source>customs warehouse</source>
        <translation>entrepôt sous douane</translation>
    </message>
    <message>
        <source>free zone</source>
        <translation>zone franche</translation>
    </message>
    <message>
        <source>postal centre</source>
        <translation>centre postal</translation>
    </message>
    <message>
        <source>express courier centre</source>
        <translation>centre de fret express</translation>
    </message>
    <message>
        <source>inland</source>
        <translation>intérieur du territoire</translation>
    </message>
    <message>
        <source>passenger</source>
        <translation>passager</translation>
    </message>
    <message>
        <source>cargo</source>
        <translation>fret</translation>
    </message>
    <message>
        <source>postal</source>
        <translation>postal</translation>
    </message>
    <message>
        <source>express courier</source>
        <translation>fret express</translation>
    </message>
    <message>
        <source>risk profiling / targeting</source>
        <translation>profilage / ciblage</translation>
    </message>
    <message>
        <source>intelligence</source>
        <translation>renseignement</translation>
    </message>
    <message>
        <source>random check</source>
        <translation>contrôle aléatoire</translation>
    </message>
    <message>
        <source>X-ray / scanner</source>
        <translation>rayons X / scanner</translation>
    </message>
    <message>
        <source>detector dog</source>
        <translation>chien détecteur</translation>
    </message>
    <message>
        <source>routine control</source>
        <translation>contrôle de routine</translation>
    </message>
    <message>
        <source>not concealed</source>
        <translation>non dissimulé</translation>
    </message>
    <message>
        <source>misdeclared</source>
        <translation>fausse déclaration</translation>
    </message>
    <message>
        <source>mixed with legitimate goods</source>
        <translation>mêlé à des marchandises licites</translation>
    </message>
    <message>
        <source>hidden compartment</source>
        <translation>cache aménagée</translation>
    </message>
    <message>
        <source>in luggage</source>
        <translation>dans les bagages</translation>
    </message>
    <message>
        <source>on the person</source>
        <translation>sur la personne</translation>
    </message>
    <message>
        <source>inside a parcel</source>
        <translation>dans un colis</translation>
    </message>
    <message>
        <source>other</source>
        <translation>autre</translation>
    </message>
    <message>
        <source>illicit / falsified medicines</source>
        <translation>médicaments illicites / falsifiés</translation>
    </message>
    <message>
        <source>medical devices</source>
        <translation>dispositifs médicaux</translation>
    </message>
    <message>
        <source>vaccines</source>
        <translation>vaccins</translation>
    </message>
    <message>
        <source>personal protective equipment</source>
        <translation>équipements de protection individuelle</translation>
    </message>
    <message>
        <source>IPR-infringing consumer goods</source>
        <translation>biens de consommation contrefaisants</translation>
    </message>
    <message>
        <source>other dangerous consumer goods</source>
        <translation>autres biens de consommation dangereux</translation>
    </message>
    <message>
        <source>drugs</source>
        <translation>stupéfiants</translation>
    </message>
    <message>
        <source>tobacco</source>
        <translation>tabac</translation>
    </message>
    <message>
        <source>alcohol</source>
        <translation>alcool</translation>
    </message>
    <message>
        <source>environment</source>
        <translation>environnement</translation>
    </message>
    <message>
        <source>cultural heritage</source>
        <translation>patrimoine culturel</translation>
    </message>
    <message>
        <source>weapons</source>
        <translation>armes</translation>
    </message>
    <message>
        <source>pieces</source>
        <translation>pièces</translation>
    </message>
    <message>
        <source>kilograms</source>
        <translation>kilogrammes</translation>
    </message>
    <message>
        <source>grams</source>
        <translation>grammes</translation>
    </message>
    <message>
        <source>litres</source>
        <translation>litres</translation>
    </message>
    <message>
        <source>millilitres</source>
        <translation>millilitres</translation>
    </message>
    <message>
        <source>doses</source>
        <translation>doses</translation>
    </message>
    <message>
        <source>tablets</source>
        <translation>comprimés</translation>
    </message>
    <message>
        <source>ampoules</source>
        <translation>ampoules</translation>
    </message>
    <message>
        <source>packages</source>
        <translation>colis</translation>
    </message>
    <message>
        <source>trademark</source>
        <translation>marque</translation>
    </message>
    <message>
        <source>copyright</source>
        <translation>droit d&apos;auteur</translation>
    </message>
    <message>
        <source>design</source>
        <translation>dessin ou modèle</translation>
    </message>
    <message>
        <source>patent</source>
        <translation>brevet</translation>
    </message>
    <message>
        <source>geographical indication</source>
        <translation>indication géographique</translation>
    </message>
    <message>
        <source>express</source>
        <translation>express</translation>
    </message>
    <message>
        <source>seized</source>
        <translation>saisi</translation>
    </message>
    <message>
        <source>detained</source>
        <translation>retenu</translation>
    </message>
    <message>
        <source>released</source>
        <translation>mainlevée</translation>
    </message>
    <message>
        <source>inspected</source>
        <translation>contrôlé</translation>
    </message>
    <message>
        <source>nothing found</source>
        <translation>rien trouvé</translation>
    </message>
    <message>
        <source>not inspected</source>
        <translation>non contrôlé</translation>
    </message>
    <message>
        <source>use only for the fight against crime</source>
        <translation>usage limité à la lutte contre la criminalité</translation>
    </message>
    <message>
        <source>not as evidence in court without the sender&apos;s permission</source>
        <translation>pas comme preuve en justice sans l&apos;accord de l&apos;expéditeur</translation>
    </message>
    <message>
        <source>not to be passed on without permission</source>
        <translation>ne pas transmettre sans autorisation</translation>
    </message>
    <message>
        <source>other restrictions (see handling_text)</source>
        <translation>autres restrictions (voir texte)</translation>
    </message>
    <message>
        <source>reliable</source>
        <translation>fiable</translation>
    </message>
    <message>
        <source>mostly reliable</source>
        <translation>généralement fiable</translation>
    </message>
    <message>
        <source>not reliable</source>
        <translation>peu fiable</translation>
    </message>
    <message>
        <source>cannot be assessed</source>
        <translation>ne peut être évaluée</translation>
    </message>
    <message>
        <source>known to be true without reservation</source>
        <translation>exacte sans réserve</translation>
    </message>
    <message>
        <source>known personally to the source</source>
        <translation>connue personnellement de la source</translation>
    </message>
    <message>
        <source>not known personally to the source, but corroborated</source>
        <translation>non connue personnellement de la source, mais corroborée</translation>
    </message>
    <message>
        <source>cannot be judged</source>
        <translation>ne peut être évaluée</translation>
    </message>
    <message>
        <source>Andorra</source>
        <translation>Andorre</translation>
    </message>
    <message>
        <source>United Arab Emirates</source>
        <translation>Émirats arabes unis</translation>
    </message>
    <message>
        <source>Afghanistan</source>
        <translation>Afghanistan</translation>
    </message>
    <message>
        <source>Antigua and Barbuda</source>
        <translation>Antigua-et-Barbuda</translation>
    </message>
    <message>
        <source>Anguilla</source>
        <translation>Anguilla</translation>
    </message>
    <message>
        <source>Albania</source>
        <translation>Albanie</translation>
    </message>
    <message>
        <source>Armenia</source>
        <translation>Arménie</translation>
    </message>
    <message>
        <source>Angola</source>
        <translation>Angola</translation>
    </message>
    <message>
        <source>Antarctica</source>
        <translation>Antarctique</translation>
    </message>
    <message>
        <source>Argentina</source>
        <translation>Argentine</translation>
    </message>
    <message>
        <source>American Samoa</source>
        <translation>Samoa américaines</translation>
    </message>
    <message>
        <source>Austria</source>
        <translation>Autriche</translation>
    </message>
    <message>
        <source>Australia</source>
        <translation>Australie</translation>
    </message>
    <message>
        <source>Aruba</source>
        <translation>Aruba</translation>
    </message>
    <message>
        <source>Åland Islands</source>
        <translation>Åland, Îles</translation>
    </message>
    <message>
        <source>Azerbaijan</source>
        <translation>Azerbaïdjan</translation>
    </message>
    <message>
        <source>Bosnia and Herzegovina</source>
        <translation>Bosnie-Herzégovine</translation>
    </message>
    <message>
        <source>Barbados</source>
        <translation>Barbade</translation>
    </message>
    <message>
        <source>Bangladesh</source>
        <translation>Bangladesh</translation>
    </message>
    <message>
        <source>Belgium</source>
        <translation>Belgique</translation>
    </message>
    <message>
        <source>Burkina Faso</source>
        <translation>Burkina Faso</translation>
    </message>
    <message>
        <source>Bulgaria</source>
        <translation>Bulgarie</translation>
    </message>
    <message>
        <source>Bahrain</source>
        <translation>Bahreïn</translation>
    </message>
    <message>
        <source>Burundi</source>
        <translation>Burundi</translation>
    </message>
    <message>
        <source>Benin</source>
        <translation>Bénin</translation>
    </message>
    <message>
        <source>Saint Barthélemy</source>
        <translation>Saint-Barthélemy</translation>
    </message>
    <message>
        <source>Bermuda</source>
        <translation>Bermudes</translation>
    </message>
    <message>
        <source>Brunei Darussalam</source>
        <translation>Brunéi Darussalam</translation>
    </message>
    <message>
        <source>Bolivia</source>
        <translation>Bolivie</translation>
    </message>
    <message>
        <source>Bonaire, Sint Eustatius and Saba</source>
        <translation>Bonaire, Saint-Eustache et Saba</translation>
    </message>
    <message>
        <source>Brazil</source>
        <translation>Brésil</translation>
    </message>
    <message>
        <source>Bahamas</source>
        <translation>Bahamas</translation>
    </message>
    <message>
        <source>Bhutan</source>
        <translation>Bhoutan</translation>
    </message>
    <message>
        <source>Bouvet Island</source>
        <translation>île Bouvet</translation>
    </message>
    <message>
        <source>Botswana</source>
        <translation>Botswana</translation>
    </message>
    <message>
        <source>Belarus</source>
        <translation>Bélarus</translation>
    </message>
    <message>
        <source>Belize</source>
        <translation>Belize</translation>
    </message>
    <message>
        <source>Canada</source>
        <translation>Canada</translation>
    </message>
    <message>
        <source>Cocos (Keeling) Islands</source>
        <translation>Cocos (Keeling), Îles</translation>
    </message>
    <message>
        <source>Congo, The Democratic Republic of the</source>
        <translation>République démocratique du Congo</translation>
    </message>
    <message>
        <source>Central African Republic</source>
        <translation>République centrafricaine</translation>
    </message>
    <message>
        <source>Congo</source>
        <translation>République du Congo</translation>
    </message>
    <message>
        <source>Switzerland</source>
        <translation>Suisse</translation>
    </message>
    <message>
        <source>Côte d&apos;Ivoire</source>
        <translation>Côte d&apos;Ivoire</translation>
    </message>
    <message>
        <source>Cook Islands</source>
        <translation>îles Cook</translation>
    </message>
    <message>
        <source>Chile</source>
        <translation>Chili</translation>
    </message>
    <message>
        <source>Cameroon</source>
        <translation>Cameroun</translation>
    </message>
    <message>
        <source>China</source>
        <translation>Chine</translation>
    </message>
    <message>
        <source>Colombia</source>
        <translation>Colombie</translation>
    </message>
    <message>
        <source>Costa Rica</source>
        <translation>Costa Rica</translation>
    </message>
    <message>
        <source>Cuba</source>
        <translation>Cuba</translation>
    </message>
    <message>
        <source>Cabo Verde</source>
        <translation>Cap-Vert</translation>
    </message>
    <message>
        <source>Curaçao</source>
        <translation>Curaçao</translation>
    </message>
    <message>
        <source>Christmas Island</source>
        <translation>Christmas, Île</translation>
    </message>
    <message>
        <source>Cyprus</source>
        <translation>Chypre</translation>
    </message>
    <message>
        <source>Czechia</source>
        <translation>Tchéquie</translation>
    </message>
    <message>
        <source>Germany</source>
        <translation>Allemagne</translation>
    </message>
    <message>
        <source>Djibouti</source>
        <translation>Djibouti</translation>
    </message>
    <message>
        <source>Denmark</source>
        <translation>Danemark</translation>
    </message>
    <message>
        <source>Dominica</source>
        <translation>Dominique</translation>
    </message>
    <message>
        <source>Dominican Republic</source>
        <translation>République dominicaine</translation>
    </message>
    <message>
        <source>Algeria</source>
        <translation>Algérie</translation>
    </message>
    <message>
        <source>Ecuador</source>
        <translation>Équateur</translation>
    </message>
    <message>
        <source>Estonia</source>
        <translation>Estonie</translation>
    </message>
    <message>
        <source>Egypt</source>
        <translation>Égypte</translation>
    </message>
    <message>
        <source>Western Sahara</source>
        <translation>Sahara occidental</translation>
    </message>
    <message>
        <source>Eritrea</source>
        <translation>Érythrée</translation>
    </message>
    <message>
        <source>Spain</source>
        <translation>Espagne</translation>
    </message>
    <message>
        <source>Ethiopia</source>
        <translation>Éthiopie</translation>
    </message>
    <message>
        <source>Finland</source>
        <translation>Finlande</translation>
    </message>
    <message>
        <source>Fiji</source>
        <translation>Fidji</translation>
    </message>
    <message>
        <source>Falkland Islands (Malvinas)</source>
        <translation>Malouines, Îles (Falkland)</translation>
    </message>
    <message>
        <source>Micronesia, Federated States of</source>
        <translation>Micronésie, États fédérés de</translation>
    </message>
    <message>
        <source>Faroe Islands</source>
        <translation>îles Féroé</translation>
    </message>
    <message>
        <source>France</source>
        <translation>France</translation>
    </message>
    <message>
        <source>Gabon</source>
        <translation>Gabon</translation>
    </message>
    <message>
        <source>United Kingdom</source>
        <translation>Royaume-Uni</translation>
    </message>
    <message>
        <source>Grenada</source>
        <translation>Grenade</translation>
    </message>
    <message>
        <source>Georgia</source>
        <translation>Géorgie</translation>
    </message>
    <message>
        <source>French Guiana</source>
        <translation>Guyane française</translation>
    </message>
    <message>
        <source>Guernsey</source>
        <translation>Guernesey</translation>
    </message>
    <message>
        <source>Ghana</source>
        <translation>Ghana</translation>
    </message>
    <message>
        <source>Gibraltar</source>
        <translation>Gibraltar</translation>
    </message>
    <message>
        <source>Greenland</source>
        <translation>Groënland</translation>
    </message>
    <message>
        <source>Gambia</source>
        <translation>Gambie</translation>
    </message>
    <message>
        <source>Guinea</source>
        <translation>Guinée</translation>
    </message>
    <message>
        <source>Guadeloupe</source>
        <translation>Guadeloupe</translation>
    </message>
    <message>
        <source>Equatorial Guinea</source>
        <translation>Guinée Équatoriale</translation>
    </message>
    <message>
        <source>Greece</source>
        <translation>Grèce</translation>
    </message>
    <message>
        <source>South Georgia and the South Sandwich Islands</source>
        <translation>Géorgie du Sud et les îles Sandwich du Sud</translation>
    </message>
    <message>
        <source>Guatemala</source>
        <translation>Guatemala</translation>
    </message>
    <message>
        <source>Guam</source>
        <translation>Guam</translation>
    </message>
    <message>
        <source>Guinea-Bissau</source>
        <translation>Guinée-Bissau</translation>
    </message>
    <message>
        <source>Guyana</source>
        <translation>Guyana</translation>
    </message>
    <message>
        <source>Hong Kong</source>
        <translation>Hong Kong</translation>
    </message>
    <message>
        <source>Heard Island and McDonald Islands</source>
        <translation>îles Heard-et-MacDonald</translation>
    </message>
    <message>
        <source>Honduras</source>
        <translation>Honduras</translation>
    </message>
    <message>
        <source>Croatia</source>
        <translation>Croatie</translation>
    </message>
    <message>
        <source>Haiti</source>
        <translation>Haïti</translation>
    </message>
    <message>
        <source>Hungary</source>
        <translation>Hongrie</translation>
    </message>
    <message>
        <source>Indonesia</source>
        <translation>Indonésie</translation>
    </message>
    <message>
        <source>Ireland</source>
        <translation>Irlande</translation>
    </message>
    <message>
        <source>Israel</source>
        <translation>Israël</translation>
    </message>
    <message>
        <source>Isle of Man</source>
        <translation>Île de Man</translation>
    </message>
    <message>
        <source>India</source>
        <translation>Inde</translation>
    </message>
    <message>
        <source>British Indian Ocean Territory</source>
        <translation>Territoire britannique de l&apos;océan Indien</translation>
    </message>
    <message>
        <source>Iraq</source>
        <translation>Irak</translation>
    </message>
    <message>
        <source>Iran</source>
        <translation>Iran</translation>
    </message>
    <message>
        <source>Iceland</source>
        <translation>Islande</translation>
    </message>
    <message>
        <source>Italy</source>
        <translation>Italie</translation>
    </message>
    <message>
        <source>Jersey</source>
        <translation>Jersey</translation>
    </message>
    <message>
        <source>Jamaica</source>
        <translation>Jamaïque</translation>
    </message>
    <message>
        <source>Jordan</source>
        <translation>Jordanie</translation>
    </message>
    <message>
        <source>Japan</source>
        <translation>Japon</translation>
    </message>
    <message>
        <source>Kenya</source>
        <translation>Kenya</translation>
    </message>
    <message>
        <source>Kyrgyzstan</source>
        <translation>Kirghizistan</translation>
    </message>
    <message>
        <source>Cambodia</source>
        <translation>Cambodge</translation>
    </message>
    <message>
        <source>Kiribati</source>
        <translation>Kiribati</translation>
    </message>
    <message>
        <source>Comoros</source>
        <translation>Comores</translation>
    </message>
    <message>
        <source>Saint Kitts and Nevis</source>
        <translation>Saint-Christophe-et-Niévès</translation>
    </message>
    <message>
        <source>North Korea</source>
        <translation>Corée du Nord</translation>
    </message>
    <message>
        <source>South Korea</source>
        <translation>Corée du Sud</translation>
    </message>
    <message>
        <source>Kuwait</source>
        <translation>Koweït</translation>
    </message>
    <message>
        <source>Cayman Islands</source>
        <translation>îles Caïmans</translation>
    </message>
    <message>
        <source>Kazakhstan</source>
        <translation>Kazakhstan</translation>
    </message>
    <message>
        <source>Laos</source>
        <translation>Laos</translation>
    </message>
    <message>
        <source>Lebanon</source>
        <translation>Liban</translation>
    </message>
    <message>
        <source>Saint Lucia</source>
        <translation>Sainte-Lucie</translation>
    </message>
    <message>
        <source>Liechtenstein</source>
        <translation>Liechtenstein</translation>
    </message>
    <message>
        <source>Sri Lanka</source>
        <translation>Sri Lanka</translation>
    </message>
    <message>
        <source>Liberia</source>
        <translation>Libéria</translation>
    </message>
    <message>
        <source>Lesotho</source>
        <translation>Lesotho</translation>
    </message>
    <message>
        <source>Lithuania</source>
        <translation>Lituanie</translation>
    </message>
    <message>
        <source>Luxembourg</source>
        <translation>Luxembourg</translation>
    </message>
    <message>
        <source>Latvia</source>
        <translation>Lettonie</translation>
    </message>
    <message>
        <source>Libya</source>
        <translation>Libye</translation>
    </message>
    <message>
        <source>Morocco</source>
        <translation>Maroc</translation>
    </message>
    <message>
        <source>Monaco</source>
        <translation>Monaco</translation>
    </message>
    <message>
        <source>Moldova</source>
        <translation>Moldavie</translation>
    </message>
    <message>
        <source>Montenegro</source>
        <translation>Monténégro</translation>
    </message>
    <message>
        <source>Saint Martin (French part)</source>
        <translation>Saint-Martin (partie française)</translation>
    </message>
    <message>
        <source>Madagascar</source>
        <translation>Madagascar</translation>
    </message>
    <message>
        <source>Marshall Islands</source>
        <translation>Îles Marshall</translation>
    </message>
    <message>
        <source>North Macedonia</source>
        <translation>Macédoine du Nord</translation>
    </message>
    <message>
        <source>Mali</source>
        <translation>Mali</translation>
    </message>
    <message>
        <source>Myanmar</source>
        <translation>Birmanie</translation>
    </message>
    <message>
        <source>Mongolia</source>
        <translation>Mongolie</translation>
    </message>
    <message>
        <source>Macao</source>
        <translation>Macau</translation>
    </message>
    <message>
        <source>Northern Mariana Islands</source>
        <translation>Îles Mariannes du Nord</translation>
    </message>
    <message>
        <source>Martinique</source>
        <translation>Martinique</translation>
    </message>
    <message>
        <source>Mauritania</source>
        <translation>Mauritanie</translation>
    </message>
    <message>
        <source>Montserrat</source>
        <translation>Montserrat</translation>
    </message>
    <message>
        <source>Malta</source>
        <translation>Malte</translation>
    </message>
    <message>
        <source>Mauritius</source>
        <translation>Maurice</translation>
    </message>
    <message>
        <source>Maldives</source>
        <translation>Maldives</translation>
    </message>
    <message>
        <source>Malawi</source>
        <translation>Malawi</translation>
    </message>
    <message>
        <source>Mexico</source>
        <translation>Mexique</translation>
    </message>
    <message>
        <source>Malaysia</source>
        <translation>Malaisie</translation>
    </message>
    <message>
        <source>Mozambique</source>
        <translation>Mozambique</translation>
    </message>
    <message>
        <source>Namibia</source>
        <translation>Namibie</translation>
    </message>
    <message>
        <source>New Caledonia</source>
        <translation>Nouvelle-Calédonie</translation>
    </message>
    <message>
        <source>Niger</source>
        <translation>Niger</translation>
    </message>
    <message>
        <source>Norfolk Island</source>
        <translation>île Norfolk</translation>
    </message>
    <message>
        <source>Nigeria</source>
        <translation>Nigeria</translation>
    </message>
    <message>
        <source>Nicaragua</source>
        <translation>Nicaragua</translation>
    </message>
    <message>
        <source>Netherlands</source>
        <translation>Pays-Bas</translation>
    </message>
    <message>
        <source>Norway</source>
        <translation>Norvège</translation>
    </message>
    <message>
        <source>Nepal</source>
        <translation>Népal</translation>
    </message>
    <message>
        <source>Nauru</source>
        <translation>Nauru</translation>
    </message>
    <message>
        <source>Niue</source>
        <translation>Nioue</translation>
    </message>
    <message>
        <source>New Zealand</source>
        <translation>Nouvelle-Zélande</translation>
    </message>
    <message>
        <source>Oman</source>
        <translation>Oman</translation>
    </message>
    <message>
        <source>Panama</source>
        <translation>Panama</translation>
    </message>
    <message>
        <source>Peru</source>
        <translation>Pérou</translation>
    </message>
    <message>
        <source>French Polynesia</source>
        <translation>Polynésie française</translation>
    </message>
    <message>
        <source>Papua New Guinea</source>
        <translation>Papouasie-Nouvelle-Guinée</translation>
    </message>
    <message>
        <source>Philippines</source>
        <translation>Philippines</translation>
    </message>
    <message>
        <source>Pakistan</source>
        <translation>Pakistan</translation>
    </message>
    <message>
        <source>Poland</source>
        <translation>Pologne</translation>
    </message>
    <message>
        <source>Saint Pierre and Miquelon</source>
        <translation>Saint-Pierre-et-Miquelon</translation>
    </message>
    <message>
        <source>Pitcairn</source>
        <translation>Îles Pitcairn</translation>
    </message>
    <message>
        <source>Puerto Rico</source>
        <translation>Porto Rico</translation>
    </message>
    <message>
        <source>Palestine, State of</source>
        <translation>Palestine, État de</translation>
    </message>
    <message>
        <source>Portugal</source>
        <translation>Portugal</translation>
    </message>
    <message>
        <source>Palau</source>
        <translation>Palaos</translation>
    </message>
    <message>
        <source>Paraguay</source>
        <translation>Paraguay</translation>
    </message>
    <message>
        <source>Qatar</source>
        <translation>Qatar</translation>
    </message>
    <message>
        <source>Réunion</source>
        <translation>Réunion, Île de la</translation>
    </message>
    <message>
        <source>Romania</source>
        <translation>Roumanie</translation>
    </message>
    <message>
        <source>Serbia</source>
        <translation>Serbie</translation>
    </message>
    <message>
        <source>Russian Federation</source>
        <translation>Russie, Fédération de</translation>
    </message>
    <message>
        <source>Rwanda</source>
        <translation>Rwanda</translation>
    </message>
    <message>
        <source>Saudi Arabia</source>
        <translation>Arabie saoudite</translation>
    </message>
    <message>
        <source>Solomon Islands</source>
        <translation>Salomon, Îles</translation>
    </message>
    <message>
        <source>Seychelles</source>
        <translation>Seychelles</translation>
    </message>
    <message>
        <source>Sudan</source>
        <translation>Soudan</translation>
    </message>
    <message>
        <source>Sweden</source>
        <translation>Suède</translation>
    </message>
    <message>
        <source>Singapore</source>
        <translation>Singapour</translation>
    </message>
    <message>
        <source>Saint Helena, Ascension and Tristan da Cunha</source>
        <translation>Sainte-Hélène, Ascension et Tristan da Cunha</translation>
    </message>
    <message>
        <source>Slovenia</source>
        <translation>Slovénie</translation>
    </message>
    <message>
        <source>Svalbard and Jan Mayen</source>
        <translation>Svalbard et île Jan Mayen</translation>
    </message>
    <message>
        <source>Slovakia</source>
        <translation>Slovaquie</translation>
    </message>
    <message>
        <source>Sierra Leone</source>
        <translation>Sierra Leone</translation>
    </message>
    <message>
        <source>San Marino</source>
        <translation>Saint-Marin</translation>
    </message>
    <message>
        <source>Senegal</source>
        <translation>Sénégal</translation>
    </message>
    <message>
        <source>Somalia</source>
        <translation>Somalie</translation>
    </message>
    <message>
        <source>Suriname</source>
        <translation>Surinam</translation>
    </message>
    <message>
        <source>South Sudan</source>
        <translation>Soudan du Sud</translation>
    </message>
    <message>
        <source>Sao Tome and Principe</source>
        <translation>Sao Tomé-et-Principe</translation>
    </message>
    <message>
        <source>El Salvador</source>
        <translation>Salvador</translation>
    </message>
    <message>
        <source>Sint Maarten (Dutch part)</source>
        <translation>Saint-Martin (partie néerlandaise)</translation>
    </message>
    <message>
        <source>Syria</source>
        <translation>Syrie</translation>
    </message>
    <message>
        <source>Eswatini</source>
        <translation>Eswatini</translation>
    </message>
    <message>
        <source>Turks and Caicos Islands</source>
        <translation>îles Turques-et-Caïques</translation>
    </message>
    <message>
        <source>Chad</source>
        <translation>Tchad</translation>
    </message>
    <message>
        <source>French Southern Territories</source>
        <translation>Terres australes françaises</translation>
    </message>
    <message>
        <source>Togo</source>
        <translation>Togo</translation>
    </message>
    <message>
        <source>Thailand</source>
        <translation>Thaïlande</translation>
    </message>
    <message>
        <source>Tajikistan</source>
        <translation>Tadjikistan</translation>
    </message>
    <message>
        <source>Tokelau</source>
        <translation>Tokelau</translation>
    </message>
    <message>
        <source>Timor-Leste</source>
        <translation>Timor oriental</translation>
    </message>
    <message>
        <source>Turkmenistan</source>
        <translation>Turkménistan</translation>
    </message>
    <message>
        <source>Tunisia</source>
        <translation>Tunisie</translation>
    </message>
    <message>
        <source>Tonga</source>
        <translation>Tonga</translation>
    </message>
    <message>
        <source>Türkiye</source>
        <translation>Türkiye</translation>
    </message>
    <message>
        <source>Trinidad and Tobago</source>
        <translation>Trinité-et-Tobago</translation>
    </message>
    <message>
        <source>Tuvalu</source>
        <translation>Tuvalu</translation>
    </message>
    <message>
        <source>Taiwan</source>
        <translation>Taïwan</translation>
    </message>
    <message>
        <source>Tanzania</source>
        <translation>Tanzanie</translation>
    </message>
    <message>
        <source>Ukraine</source>
        <translation>Ukraine</translation>
    </message>
    <message>
        <source>Uganda</source>
        <translation>Ouganda</translation>
    </message>
    <message>
        <source>United States Minor Outlying Islands</source>
        <translation>Îles mineures éloignées des États-Unis</translation>
    </message>
    <message>
        <source>United States</source>
        <translation>États-Unis</translation>
    </message>
    <message>
        <source>Uruguay</source>
        <translation>Uruguay</translation>
    </message>
    <message>
        <source>Uzbekistan</source>
        <translation>Ouzbékistan</translation>
    </message>
    <message>
        <source>Holy See (Vatican City State)</source>
        <translation>Saint-Siège (état de la cité du Vatican)</translation>
    </message>
    <message>
        <source>Saint Vincent and the Grenadines</source>
        <translation>Saint-Vincent-et-les-Grenadines</translation>
    </message>
    <message>
        <source>Venezuela</source>
        <translation>Vénézuela</translation>
    </message>
    <message>
        <source>Virgin Islands, British</source>
        <translation>Îles Vierges britanniques</translation>
    </message>
    <message>
        <source>Virgin Islands, U.S.</source>
        <translation>Îles Vierges, États-Unis</translation>
    </message>
    <message>
        <source>Vietnam</source>
        <translation>Viêt Nam</translation>
    </message>
    <message>
        <source>Vanuatu</source>
        <translation>Vanuatu</translation>
    </message>
    <message>
        <source>Wallis and Futuna</source>
        <translation>Wallis et Futuna</translation>
    </message>
    <message>
        <source>Samoa</source>
        <translation>Samoa</translation>
    </message>
    <message>
        <source>Yemen</source>
        <translation>Yémen</translation>
    </message>
    <message>
        <source>Mayotte</source>
        <translation>Mayotte</translation>
    </message>
    <message>
        <source>South Africa</source>
        <translation>Afrique du Sud</translation>
    </message>
    <message>
        <source>Zambia</source>
        <translation>Zambie</translation>
    </message>
    <message>
        <source>Zimbabwe</source>
        <translation>Zimbabwe</translation>
    </message>
</context>
<context>
    <name>fields</name>
    <message>
        <source>Summary</source>
        <translation>Résumé</translation>
    </message>
    <message>
        <source>Commodity category</source>
        <translation>Catégorie de marchandise</translation>
    </message>
    <message>
        <source>HS code</source>
        <translation>Code SH</translation>
    </message>
    <message>
        <source>Risk indicators (one per line)</source>
        <translation>Indicateurs de risque (un par ligne)</translation>
    </message>
    <message>
        <source>Mode of transport</source>
        <translation>Mode de transport</translation>
    </message>
    <message>
        <source>Conveyance</source>
        <translation>Moyen de transport</translation>
    </message>
    <message>
        <source>Country of origin</source>
        <translation>Pays d&apos;origine</translation>
    </message>
    <message>
        <source>Country of departure</source>
        <translation>Pays de départ</translation>
    </message>
    <message>
        <source>Transit countries</source>
        <translation>Pays de transit</translation>
    </message>
    <message>
        <source>Country of destination</source>
        <translation>Pays de destination</translation>
    </message>
    <message>
        <source>E-commerce</source>
        <translation>Commerce électronique</translation>
    </message>
    <message>
        <source>Valid until</source>
        <translation>Valable jusqu&apos;au</translation>
    </message>
    <message>
        <source>Related alert ids</source>
        <translation>Alertes liées (identifiants)</translation>
    </message>
    <message>
        <source>Handling code</source>
        <translation>Code de traitement</translation>
    </message>
    <message>
        <source>Handling restrictions (H3)</source>
        <translation>Restrictions de traitement (H3)</translation>
    </message>
    <message>
        <source>Evaluation</source>
        <translation>Évaluation</translation>
    </message>
    <message>
        <source>Warning id</source>
        <translation>Identifiant de l&apos;avertissement</translation>
    </message>
    <message>
        <source>Outcome</source>
        <translation>Résultat</translation>
    </message>
    <message>
        <source>Remarks</source>
        <translation>Remarques</translation>
    </message>
    <message>
        <source>Seizure date</source>
        <translation>Date de la saisie</translation>
    </message>
    <message>
        <source>Country</source>
        <translation>Pays</translation>
    </message>
    <message>
        <source>Place (customs office)</source>
        <translation>Lieu (bureau de douane)</translation>
    </message>
    <message>
        <source>UN/LOCODE</source>
        <translation>UN/LOCODE</translation>
    </message>
    <message>
        <source>Type of location</source>
        <translation>Type de lieu</translation>
    </message>
    <message>
        <source>Detection method</source>
        <translation>Méthode de détection</translation>
    </message>
    <message>
        <source>Concealment</source>
        <translation>Dissimulation</translation>
    </message>
    <message>
        <source>Concealment details</source>
        <translation>Détails de la dissimulation</translation>
    </message>
    <message>
        <source>Platform or website</source>
        <translation>Plateforme ou site web</translation>
    </message>
    <message>
        <source>Consignment type</source>
        <translation>Type d&apos;envoi</translation>
    </message>
    <message>
        <source>Small consignment</source>
        <translation>Petit envoi</translation>
    </message>
    <message>
        <source>Outcome status</source>
        <translation>Statut</translation>
    </message>
    <message>
        <source>Category</source>
        <translation>Catégorie</translation>
    </message>
    <message>
        <source>Description</source>
        <translation>Description</translation>
    </message>
    <message>
        <source>Quantity</source>
        <translation>Quantité</translation>
    </message>
    <message>
        <source>Unit</source>
        <translation>Unité</translation>
    </message>
    <message>
        <source>Estimated value</source>
        <translation>Valeur estimée</translation>
    </message>
    <message>
        <source>Currency</source>
        <translation>Devise</translation>
    </message>
    <message>
        <source>Brand</source>
        <translation>Marque</translation>
    </message>
    <message>
        <source>Right holder</source>
        <translation>Titulaire du droit</translation>
    </message>
    <message>
        <source>IPR type</source>
        <translation>Type de DPI</translation>
    </message>
    <message>
        <source>Title</source>
        <translation>Titre</translation>
    </message>
    <message>
        <source>Text</source>
        <translation>Texte</translation>
    </message>
    <message>
        <source>Amended alert id</source>
        <translation>Identifiant de l&apos;alerte rectifiée</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>Motif</translation>
    </message>
    <message>
        <source>Kind of the amended alert</source>
        <translation>Type de l&apos;alerte rectifiée</translation>
    </message>
    <message>
        <source>Withdrawn alert id</source>
        <translation>Identifiant de l&apos;alerte retirée</translation>
    </message>
</context>
<context>
    <name>kinds</name>
    <message>
        <source>Warning</source>
        <translation>Avertissement</translation>
    </message>
    <message>
        <source>Feedback</source>
        <translation>Retour</translation>
    </message>
    <message>
        <source>Seizure</source>
        <translation>Saisie</translation>
    </message>
    <message>
        <source>Notice</source>
        <translation>Communication</translation>
    </message>
    <message>
        <source>Amendment</source>
        <translation>Rectification</translation>
    </message>
    <message>
        <source>Withdrawal</source>
        <translation>Retrait</translation>
    </message>
</context>
<context>
    <name>roles</name>
    <message>
        <source>reader</source>
        <translation>lecteur</translation>
    </message>
    <message>
        <source>contributor</source>
        <translation>contributeur</translation>
    </message>
    <message>
        <source>coordinator</source>
        <translation>coordinateur</translation>
    </message>
</context>
</TS>
