"""Vocabulary of the synthetic data generator: message text about the 16 topics plus small talk,
in English, Spanish, Portuguese, German and French (`LANGUAGE_WEIGHTS`).

Written for chatlake's generator (not taken from the contract's examples, nor translated line
by line: each language has its own phrasing, as people write in chats). Templates hold
placeholders that `topic_sentence` fills from per-topic word lists and shared lists:
{a} and {b} (topic words), {when}, {who}, {n}. Fillers carry accents, CJK and emoji so that
text is multi-byte UTF-8. A message's language is its conversation's (`World.with_conversation`);
system texts come from the backend and stay English.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F

from schemas.topics import TOPIC_NAMES

# topic -> (templates, {a} words, {b} words); every topic has non-empty word lists so that an
# index into them is always valid (ANSI mode fails on an out-of-range element_at).
TOPIC_PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "food_and_dining": (
        (
            "anyone up for {a} {when}?",
            "tried a new recipe for {a} and it turned out amazing",
            "the {a} at that restaurant downtown was way too salty",
            "can you pick up {b} from the grocery store on your way",
            "dinner at my place {when}, I'm cooking {a}",
            "booked a table for four at the {a} restaurant {when}",
            "that {a} recipe needs much more {b} than it says",
            "I'm starving, thinking about ordering {a} for lunch",
        ),
        (
            "ramen", "lasagna", "pad thai", "sushi 寿司", "crème brûlée", "pão de queijo", "phở",
            "tacos al pastor", "paella", "dumplings 饺子", "shakshuka", "green curry",
        ),
        ("garlic", "olive oil", "eggs", "jalapeños", "basil", "rice", "oat milk", "coriander"),
    ),
    "travel": (
        (
            "our flight to {a} leaves {when}, don't forget your passport",
            "just landed in {a} ✈️ the airport is enormous",
            "the hotel in {a} upgraded us to a room with a view",
            "should we take the train or fly to {a}?",
            "packing for the trip to {a}, how cold is it there?",
            "sightseeing in {a} all day, my feet are done",
            "flight delayed {b}, stuck at the gate",
            "vacation photos from {a} coming soon 📸",
        ),
        (
            "Zürich", "São Paulo", "Kraków", "Reykjavík", "東京", "Lisbon", "Marrakech",
            "Montréal", "Kyoto", "Cape Town", "Dubrovnik", "Oaxaca",
        ),
        ("by two hours", "for the third time", "until midnight", "overnight"),
    ),
    "fitness_and_health": (
        (
            "went for a {a} run this morning, legs are sore",
            "gym {when}? I need a spotter for leg day",
            "the doctor says I need more sleep and less coffee",
            "new workout plan: {a} training three times a week",
            "I think I caught the flu, staying in bed to rest",
            "my {b} hurts after yesterday's workout",
            "day {n} of the new diet, no sugar so far 💪",
            "yoga class at the gym {when}, want to join?",
        ),
        ("5k", "10k", "interval", "trail", "easy recovery", "half marathon"),
        ("knee", "back", "shoulder", "ankle", "wrist"),
    ),
    "shopping": (
        (
            "the {a} I ordered finally got delivered",
            "big sale at the mall {when}, everything 40% off",
            "should I buy the {a} now or wait for the price to drop?",
            "my online order for the {a} has been stuck in delivery since Monday",
            "returned the {a}, the store gave me a full refund",
            "found {b} on discount for half the price 🛍️",
        ),
        (
            "sneakers", "winter jacket", "sofa", "backpack", "rain boots", "desk lamp",
            "linen shirt", "coffee table",
        ),
        ("a leather bag", "new running shoes", "a wool coat", "a rug", "a mirror"),
    ),
    "music": (
        (
            "have you heard the new {a} album? on repeat all day",
            "got tickets for the {a} concert {when} 🎶",
            "made a playlist for the road trip, mostly {b}",
            "this song is stuck in my head, the chorus is so catchy",
            "the band played for three hours, best live show ever",
            "learning {b} songs on the guitar",
        ),
        ("Beyoncé", "Rosalía", "BTS", "Daft Punk", "Sigur Rós", "Coldplay", "Björk", "Stromae"),
        ("jazz", "k-pop", "bossa nova", "indie rock", "lo-fi", "80s synth pop"),
    ),
    "movies_and_tv": (
        (
            "just finished season {n} of that series, no spoilers please",
            "want to see the new {a} film at the cinema {when}?",
            "the last episode ended on a huge cliffhanger 😱",
            "what should we stream tonight? I'm in the mood for {b}",
            "that movie was too long but the ending was great",
            "binge-watched the whole show in one weekend",
        ),
        ("Miyazaki", "Almodóvar", "Nolan", "Marvel", "Pixar", "Bong Joon-ho"),
        ("a documentary", "a horror movie", "a rom-com", "an anime series", "a crime drama"),
    ),
    "gaming": (
        (
            "who's online for a multiplayer match {when}? 🎮",
            "finally beat the final boss in {a}",
            "stuck on level {n} of {a}, any tips?",
            "my console keeps crashing in the middle of the game",
            "the new {a} patch nerfed my favorite character",
            "ranked matches went terrible, we lost every round",
        ),
        ("Zelda", "Elden Ring", "Minecraft", "Fortnite", "Mario Kart", "Hades"),
        ("co-op", "split-screen", "online", "speedrun", "ranked"),
    ),
    "sports": (
        (
            "did you watch the match last night? what a goal ⚽",
            "{a} won 3-1, the league title is within reach",
            "our team lost again, the coach has to go",
            "tickets for the {a} game {when}, who's in?",
            "that player scored twice in the second half",
            "the final score was unbelievable, it went to overtime",
        ),
        (
            "Barcelona", "the Lakers", "Flamengo", "Bayern München", "the Yankees",
            "Galatasaray", "the All Blacks",
        ),
        ("the derby", "the playoffs", "the cup final", "the season opener"),
    ),
    "meetings_and_scheduling": (
        (
            "can we move our meeting to {when}?",
            "I'll send a calendar invite for the call at {b}",
            "running 10 minutes late to the meeting, start without me",
            "let's reschedule the sync, the agenda isn't ready yet",
            "are you free for a quick call {when}?",
            "the meeting notes and agenda are in the shared doc",
        ),
        ("standup", "sync", "1:1", "planning meeting", "retro"),
        ("9:30", "11:00", "14:15", "4pm", "noon"),
    ),
    "projects_and_deadlines": (
        (
            "the deadline for the {a} is {when} and we're behind",
            "pushed the release to {when}, QA found blockers",
            "can you review my {a} before the deadline?",
            "task board is updated, three deliverables left this sprint",
            "we shipped the {a} on time 🎉 great work team",
            "the milestone review slipped again, we need to prioritize tasks",
        ),
        (
            "quarterly report", "design mockups", "project proposal", "budget draft",
            "migration plan", "client deliverable",
        ),
        ("release", "milestone", "sprint", "launch"),
    ),
    "jobs_and_careers": (
        (
            "I have a job interview at {a} {when}, wish me luck",
            "got the offer! the salary is way better",
            "updating my resume, can you take a look?",
            "they're hiring a senior {b}, want me to refer you?",
            "my manager mentioned a promotion at the next review",
            "second interview went well, now waiting on the recruiter",
        ),
        ("a startup", "the bank", "a design agency", "the hospital", "a game studio"),
        ("engineer", "designer", "product manager", "data analyst", "nurse"),
    ),
    "software_and_apps": (
        (
            "the app keeps crashing since the latest update",
            "found a bug on the login page, password reset doesn't work",
            "did you install the new version of {a}?",
            "my code finally compiles, only took all afternoon 😅",
            "the website is down again, I get a 500 error",
            "I reset my account password and still can't log in to {a}",
        ),
        ("the banking app", "Photoshop", "the calendar app", "VS Code", "the tracker app"),
        ("iOS", "Android", "the browser", "Windows"),
    ),
    "gadgets_and_devices": (
        (
            "my phone battery is dead by lunchtime now",
            "thinking of buying {a}, any recommendations?",
            "left my laptop charger at the office 🤦",
            "the new {a} has an amazing screen",
            "my headphones stopped charging, one earbud is dead",
            "cracked the screen on my tablet again",
        ),
        (
            "noise-cancelling headphones", "a smartwatch", "a gaming laptop", "an e-reader",
            "a new phone", "wireless earbuds",
        ),
        ("USB-C cable", "power bank", "keyboard", "monitor"),
    ),
    "money_and_payments": (
        (
            "I paid the rent, you owe me {a}",
            "can you transfer me your share of the bill?",
            "splitting the cost of {b}, it's {a} each",
            "the electricity bill is much higher this month",
            "sent you the payment, check your bank account",
            "we need to stick to the budget this month 💸",
        ),
        ("€45", "$120", "£30", "¥3,000", "R$80", "₹1,500"),
        ("the cabin", "the taxi", "the internet bill", "the car rental"),
    ),
    "family_and_friends": (
        (
            "mom wants everyone to come over {when}",
            "my sister just had a baby girl 👶",
            "the kids have a school play {when}, grandma is coming",
            "haven't seen you in ages, let's catch up soon",
            "visiting my parents {when}, back on Monday",
            "my brother and his wife are staying with us this week",
        ),
        ("grandpa", "my cousins", "the neighbours", "my aunt"),
        ("the kids", "my parents", "my in-laws"),
    ),
    "celebrations": (
        (
            "happy birthday {who}!! 🎂🎉",
            "what gift should we get for the wedding?",
            "party at our place {when}, bring friends",
            "merry Christmas and happy holidays everyone 🎄",
            "planning a surprise party for {who}'s birthday, don't tell",
            "congrats on the engagement!! when is the wedding? 💍",
        ),
        ("birthday", "anniversary", "graduation"),
        ("cake", "balloons", "decorations"),
    ),
}
assert tuple(TOPIC_PHRASES) == TOPIC_NAMES, "one entry per topic of schemas/topics.py, same order"

SMALL_TALK: tuple[str, ...] = (
    "ok", "okay", "haha", "hahaha", "lol", "👍", "😂😂", "❤️", "🙏", "yes", "no worries",
    "thanks!", "good morning ☀️", "good night", "see you", "sure", "on my way", "where are you?",
    "call me when you can", "merci !", "gracias 😊", "ありがとう", "好的", "d'accord", "😅",
    "🎉🎉🎉", "hmm", "brb", "what time?", "sounds good", "k", "nice!", "omg", "can't wait",
    "same here", "wait what?", "👀", "🔥🔥", "tudo bem?", "já volto", "danke schön",
)
WHEN: tuple[str, ...] = (
    "tomorrow", "tonight", "on Friday", "this weekend", "next week", "on Sunday morning",
    "after work", "later today",
)
WHO: tuple[str, ...] = (
    "Ana", "José", "Zoë", "Björn", "Chloé", "Ming", "Priya", "Łukasz", "Siobhán", "Nuno",
    "さくら", "Mehmet",
)
PREFIXES: tuple[str, ...] = ("hey ", "btw ", "so ", "ok so ", "Hi! ", "omg ", "fyi ", "ugh ")
SUFFIXES: tuple[str, ...] = (" 😂", " 👍", " 🙏", "!!", " 🎉", " lol", " ❤️", " 😅", " 🤔", " 😊")
SYSTEM_TEXTS: tuple[str, ...] = (
    "pinned a message", "changed the group photo", "turned on disappearing messages",
    "changed the group description",
)
CAPTIONS: tuple[str, ...] = ("look at this", "📷", "here you go", "from yesterday", "😍")



# --- other languages ------------------------------------------------------------------------
# Written for chatlake as people type in chats in each language (not translations of the
# English lines). Topic words carry their article where the grammar needs one, so that the
# templates read naturally with any word of the list.

TopicPhrases = dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]

TOPIC_PHRASES_ES: TopicPhrases = {
    "food_and_dining": (
        (
            "¿alguien se apunta a {a} {when}?",
            "hice {a} con una receta nueva y me salió buenísimo",
            "pedimos {a} en ese restaurante del centro y estaba saladísimo",
            "¿puedes pasar por el súper y comprar {b}?",
            "cena en mi casa {when}, voy a cocinar {a}",
            "reservé mesa para cuatro en el restaurante {when}",
            "me muero de hambre, ¿pedimos {a} para comer?",
        ),
        (
            "ramen", "lasaña", "tacos al pastor", "sushi 寿司", "crème brûlée", "paella",
            "empanadas", "tortilla de patatas", "phở", "arepas", "ceviche", "churros con chocolate",
        ),
        ("ajo", "aceite de oliva", "huevos", "tomates", "cilantro", "arroz", "leche de avena", "pan"),
    ),
    "travel": (
        (
            "nuestro vuelo a {a} sale {when}, no te olvides el pasaporte",
            "acabo de aterrizar en {a} ✈️ el aeropuerto es enorme",
            "en el hotel de {a} nos dieron una habitación con vistas",
            "¿vamos a {a} en tren o cogemos un vuelo?",
            "haciendo la maleta para el viaje a {a}, ¿qué tiempo hace allí?",
            "el vuelo lleva retraso {b}, seguimos en la puerta de embarque",
            "en breve subo las fotos de las vacaciones en {a} 📸",
        ),
        (
            "Zúrich", "São Paulo", "Cracovia", "Reikiavik", "東京", "Lisboa", "Marrakech",
            "Montreal", "Kioto", "Ciudad del Cabo", "Dubrovnik", "Oaxaca",
        ),
        ("de dos horas", "otra vez", "hasta medianoche", "toda la noche"),
    ),
    "fitness_and_health": (
        (
            "salí a correr {a} esta mañana y tengo las piernas destrozadas",
            "¿gimnasio {when}? toca pierna y necesito compañía",
            "el médico dice que duerma más y tome menos café",
            "nuevo plan de entrenamiento: {a} tres veces por semana",
            "creo que he pillado la gripe, me quedo en la cama descansando",
            "me duele {b} desde el entreno de ayer",
            "día {n} de dieta sin azúcar 💪",
            "clase de yoga en el gimnasio {when}, ¿te apuntas?",
        ),
        ("5 km", "10 km", "series", "por el monte", "suave", "media maratón"),
        ("la rodilla", "la espalda", "el hombro", "el tobillo", "la muñeca"),
    ),
    "shopping": (
        (
            "por fin llegó el pedido: {a}",
            "rebajas en el centro comercial {when}, todo al 40%",
            "¿compro {a} ya o espero a que baje de precio?",
            "mi pedido online lleva atascado en reparto desde el lunes",
            "devolví {a} y en la tienda me devolvieron todo el dinero",
            "encontré {b} con descuento a mitad de precio 🛍️",
        ),
        (
            "las zapatillas", "la chaqueta de invierno", "el sofá", "la mochila",
            "las botas de lluvia", "la lámpara", "la camisa de lino", "la mesa de centro",
        ),
        ("un bolso de cuero", "unas zapatillas de running", "un abrigo de lana", "una alfombra",
         "un espejo"),
    ),
    "music": (
        (
            "¿has escuchado el nuevo disco de {a}? lo tengo en bucle",
            "tengo entradas para el concierto de {a} {when} 🎶",
            "hice una playlist para el viaje en coche, casi todo {b}",
            "tengo esta canción metida en la cabeza, el estribillo es pegadizo",
            "el grupo tocó tres horas, el mejor directo de mi vida",
            "estoy aprendiendo canciones de {b} con la guitarra",
        ),
        ("Beyoncé", "Rosalía", "Bad Bunny", "Daft Punk", "Shakira", "Coldplay", "Björk", "Stromae"),
        ("jazz", "reguetón", "bossa nova", "rock indie", "flamenco", "pop de los 80"),
    ),
    "movies_and_tv": (
        (
            "acabo de terminar la temporada {n} de la serie, nada de spoilers",
            "¿vamos al cine a ver la nueva película de {a} {when}?",
            "el último capítulo acabó con un cliffhanger tremendo 😱",
            "¿qué vemos esta noche? me apetece {b}",
            "la peli se hizo larga pero el final estuvo genial",
            "me vi la serie entera en un fin de semana",
        ),
        ("Miyazaki", "Almodóvar", "Nolan", "Marvel", "Pixar", "Guillermo del Toro"),
        ("un documental", "una de miedo", "una comedia romántica", "una serie de anime",
         "un thriller policíaco"),
    ),
    "gaming": (
        (
            "¿quién se conecta {when} para una partida online? 🎮",
            "por fin me pasé el jefe final de {a}",
            "estoy atascado en el nivel {n} de {a}, ¿algún truco?",
            "la consola se me cuelga en mitad de la partida",
            "el nuevo parche de {a} ha nerfeado a mi personaje favorito",
            "las partidas clasificatorias fueron fatal, perdimos todas las rondas",
        ),
        ("Zelda", "Elden Ring", "Minecraft", "Fortnite", "Mario Kart", "Hades"),
        ("cooperativo", "pantalla dividida", "online", "speedrun", "clasificatoria"),
    ),
    "sports": (
        (
            "¿viste el partido anoche? qué golazo ⚽",
            "{a} ganó 3-1, la liga está al alcance",
            "nuestro equipo volvió a perder, que echen ya al entrenador",
            "tengo entradas para {b} {when}, ¿quién viene?",
            "ese jugador marcó dos goles en la segunda parte",
            "el resultado final fue increíble, hubo prórroga",
        ),
        ("el Barça", "el Real Madrid", "Boca Juniors", "el Atlético", "el Sevilla", "River Plate"),
        ("el derbi", "los playoffs", "la final de copa", "el primer partido de la temporada"),
    ),
    "meetings_and_scheduling": (
        (
            "¿podemos mover la reunión a {when}?",
            "te mando una invitación de calendario para la llamada a las {b}",
            "llego 10 minutos tarde a la reunión, empezad sin mí",
            "mejor reprogramamos {a}, la agenda no está lista",
            "¿tienes un rato para una llamada rápida {when}?",
            "las notas y la agenda de la reunión están en el documento compartido",
        ),
        ("la daily", "la reunión de equipo", "el 1:1", "la planificación", "la retro"),
        ("9:30", "11:00", "14:15", "16:00", "12:00"),
    ),
    "projects_and_deadlines": (
        (
            "tenemos que entregar {a} {when} y vamos con retraso",
            "movimos el lanzamiento a {when}, QA encontró bloqueos",
            "¿puedes revisar {a} antes de la fecha de entrega?",
            "tablero de tareas actualizado, quedan tres entregables en este sprint",
            "entregamos {a} a tiempo 🎉 buen trabajo, equipo",
            "el hito se ha vuelto a retrasar, hay que priorizar tareas",
        ),
        (
            "el informe trimestral", "los mockups", "la propuesta del proyecto", "el presupuesto",
            "el plan de migración", "el entregable del cliente",
        ),
        ("lanzamiento", "hito", "sprint", "entrega"),
    ),
    "jobs_and_careers": (
        (
            "tengo una entrevista de trabajo en {a} {when}, deséame suerte",
            "¡me hicieron la oferta! el sueldo es mucho mejor",
            "estoy actualizando el currículum, ¿le echas un vistazo?",
            "buscan {b} senior, ¿quieres que te recomiende?",
            "mi jefa mencionó un ascenso en la próxima evaluación",
            "la segunda entrevista fue bien, ahora a esperar a la reclutadora",
        ),
        ("una startup", "el banco", "una agencia de diseño", "el hospital",
         "un estudio de videojuegos"),
        ("ingeniero", "diseñadora", "product manager", "analista de datos", "enfermero"),
    ),
    "software_and_apps": (
        (
            "la app se cierra sola desde la última actualización",
            "encontré un bug en la página de login, lo de restablecer la contraseña no funciona",
            "¿instalaste la nueva versión de {a}?",
            "por fin compila mi código, solo me llevó toda la tarde 😅",
            "la web se ha vuelto a caer, me sale error 500",
            "cambié la contraseña y sigo sin poder entrar en {a}",
        ),
        ("la app del banco", "Photoshop", "la app del calendario", "VS Code", "WhatsApp Web"),
        ("iOS", "Android", "el navegador", "Windows"),
    ),
    "gadgets_and_devices": (
        (
            "la batería del móvil ya no me dura ni hasta mediodía",
            "estoy pensando en comprar {a}, ¿alguna recomendación?",
            "me dejé el cargador del portátil en la oficina 🤦",
            "probé {a} en la tienda y la pantalla es una pasada",
            "mis auriculares ya no cargan, uno de los dos está muerto",
            "se me ha vuelto a romper la pantalla de la tablet",
        ),
        (
            "unos auriculares con cancelación de ruido", "un smartwatch", "un portátil gaming",
            "un lector de ebooks", "un móvil nuevo", "unos auriculares inalámbricos",
        ),
        ("cable USB-C", "batería externa", "teclado", "monitor"),
    ),
    "money_and_payments": (
        (
            "pagué el alquiler, me debes {a}",
            "¿me haces un bizum con tu parte de la cuenta?",
            "dividimos {b} entre todos, sale a {a} cada uno",
            "la factura de la luz ha subido muchísimo este mes",
            "te mandé el pago, mira tu cuenta del banco",
            "este mes hay que ajustarse al presupuesto 💸",
        ),
        ("45 €", "120 $", "30 £", "3.000 ¥", "80 R$", "1.500 ₹"),
        ("la cabaña", "el taxi", "internet", "el coche de alquiler"),
    ),
    "family_and_friends": (
        (
            "mamá quiere que vayamos todos {when}",
            "mi hermana acaba de tener una niña 👶",
            "los niños tienen función en el colegio {when}, viene la abuela",
            "hace siglos que no te veo, a ver si quedamos pronto",
            "voy a ver a mis padres {when}, vuelvo el lunes",
            "mi hermano y su mujer se quedan en casa esta semana",
        ),
        ("el abuelo", "mis primos", "los vecinos", "mi tía"),
        ("los niños", "mis padres", "mis suegros"),
    ),
    "celebrations": (
        (
            "¡¡feliz cumpleaños {who}!! 🎂🎉",
            "¿qué regalo le compramos para la boda?",
            "fiesta en casa {when}, traed a quien queráis",
            "feliz Navidad y felices fiestas a todos 🎄",
            "estamos preparando una fiesta sorpresa para el cumple de {who}, no digas nada",
            "¡¡enhorabuena por el compromiso!! ¿para cuándo la boda? 💍",
        ),
        ("cumpleaños", "aniversario", "graduación"),
        ("tarta", "globos", "decoración"),
    ),
}

TOPIC_PHRASES_PT: TopicPhrases = {
    "food_and_dining": (
        (
            "alguém topa {a} {when}?",
            "fiz {a} com uma receita nova e ficou incrível",
            "pedimos {a} naquele restaurante do centro e veio salgado demais",
            "passa no mercado e compra {b} pra mim?",
            "jantar lá em casa {when}, vou cozinhar {a}",
            "reservei uma mesa pra quatro no restaurante {when}",
            "tô morrendo de fome, vamos pedir {a} no almoço?",
        ),
        (
            "ramen", "lasanha", "feijoada", "sushi 寿司", "pão de queijo", "moqueca", "coxinha",
            "phở", "pastel", "açaí", "brigadeiro", "escondidinho",
        ),
        ("alho", "azeite", "ovos", "tomate", "coentro", "arroz", "leite", "pão"),
    ),
    "travel": (
        (
            "nosso voo pra {a} sai {when}, não esquece o passaporte",
            "acabei de pousar em {a} ✈️ o aeroporto é enorme",
            "o hotel em {a} deu upgrade pra um quarto com vista",
            "vamos de trem ou de avião pra {a}?",
            "fazendo a mala pra viagem a {a}, tá frio lá?",
            "voo atrasado {b}, presos no portão de embarque",
            "fotos das férias em {a} em breve 📸",
        ),
        (
            "Zurique", "São Paulo", "Cracóvia", "Reykjavík", "東京", "Lisboa", "Marrakech",
            "Montreal", "Quioto", "Cidade do Cabo", "Salvador", "Florianópolis",
        ),
        ("duas horas", "de novo", "até meia-noite", "a noite toda"),
    ),
    "fitness_and_health": (
        (
            "corri {a} hoje de manhã, tô com as pernas doendo",
            "academia {when}? hoje é dia de perna",
            "o médico falou pra eu dormir mais e tomar menos café",
            "treino novo: {a} três vezes por semana",
            "acho que peguei gripe, vou ficar de cama descansando",
            "tô com dor {b} depois do treino de ontem",
            "dia {n} da dieta nova, zero açúcar até agora 💪",
            "aula de yoga na academia {when}, bora?",
        ),
        ("5 km", "10 km", "tiros", "trilha", "leve", "meia maratona"),
        ("no joelho", "nas costas", "no ombro", "no tornozelo", "no pulso"),
    ),
    "shopping": (
        (
            "finalmente chegou {a} que eu comprei",
            "promoção no shopping {when}, tudo com 40% de desconto",
            "compro {a} agora ou espero o preço baixar?",
            "minha compra online tá parada na entrega desde segunda",
            "devolvi {a} e a loja me reembolsou tudo",
            "achei {b} com desconto pela metade do preço 🛍️",
        ),
        (
            "o tênis", "a jaqueta de inverno", "o sofá", "a mochila", "a bota de chuva",
            "a luminária", "a camisa de linho", "a mesa de centro",
        ),
        ("uma bolsa de couro", "um tênis de corrida", "um casaco de lã", "um tapete", "um espelho"),
    ),
    "music": (
        (
            "já ouviu o álbum novo de {a}? tô ouvindo sem parar",
            "comprei ingresso pro show de {a} {when} 🎶",
            "fiz uma playlist pra viagem de carro, quase tudo {b}",
            "essa música não sai da minha cabeça, o refrão gruda",
            "a banda tocou três horas, melhor show da vida",
            "tô aprendendo umas músicas de {b} no violão",
        ),
        ("Beyoncé", "Anitta", "Caetano Veloso", "Daft Punk", "Marisa Monte", "Coldplay", "Björk",
         "Stromae"),
        ("jazz", "samba", "bossa nova", "rock indie", "forró", "pop anos 80"),
    ),
    "movies_and_tv": (
        (
            "acabei a temporada {n} daquela série, sem spoiler por favor",
            "bora ver o filme novo de {a} no cinema {when}?",
            "o último episódio terminou num gancho enorme 😱",
            "o que a gente assiste hoje? tô a fim de {b}",
            "o filme foi longo demais, mas o final foi ótimo",
            "maratonei a série inteira num fim de semana",
        ),
        ("Miyazaki", "Almodóvar", "Nolan", "Marvel", "Pixar", "Kleber Mendonça Filho"),
        ("um documentário", "um filme de terror", "uma comédia romântica", "um anime",
         "um drama policial"),
    ),
    "gaming": (
        (
            "quem tá online pra uma partida {when}? 🎮",
            "finalmente zerei {a}, o chefão final foi tenso",
            "travado na fase {n} de {a}, alguma dica?",
            "meu console fica travando no meio do jogo",
            "o patch novo de {a} nerfou meu personagem favorito",
            "as ranqueadas foram horríveis, perdemos todas as partidas",
        ),
        ("Zelda", "Elden Ring", "Minecraft", "Fortnite", "Mario Kart", "Hades"),
        ("coop", "tela dividida", "online", "speedrun", "ranqueada"),
    ),
    "sports": (
        (
            "viu o jogo ontem à noite? que golaço ⚽",
            "{a} ganhou de 3 a 1, o título tá perto",
            "nosso time perdeu de novo, tem que mandar o técnico embora",
            "comprei ingressos, {b} é {when}, quem vai?",
            "aquele jogador fez dois gols no segundo tempo",
            "o placar final foi inacreditável, foi pra prorrogação",
        ),
        ("o Flamengo", "o Palmeiras", "o Corinthians", "o Benfica", "o Porto", "o Grêmio"),
        ("o clássico", "a final", "a final da copa", "a estreia do campeonato"),
    ),
    "meetings_and_scheduling": (
        (
            "dá pra mudar nossa reunião pra {when}?",
            "vou mandar o convite no calendário pra call às {b}",
            "vou atrasar 10 minutos pra reunião, podem começar sem mim",
            "vamos remarcar {a}, a pauta ainda não tá pronta",
            "tem um tempinho pra uma call rápida {when}?",
            "as notas da reunião e a pauta estão no documento compartilhado",
        ),
        ("a daily", "o alinhamento", "o 1:1", "o planejamento", "a retro"),
        ("9:30", "11h", "14:15", "16h", "12h"),
    ),
    "projects_and_deadlines": (
        (
            "temos que entregar {a} {when} e estamos atrasados",
            "adiamos o lançamento pra {when}, o QA achou bloqueios",
            "pode revisar {a} antes do prazo?",
            "quadro de tarefas atualizado, faltam três entregas nessa sprint",
            "entregamos {a} no prazo 🎉 mandou bem, equipe",
            "o marco atrasou de novo, precisamos priorizar as tarefas",
        ),
        (
            "o relatório trimestral", "os mockups", "a proposta do projeto", "o orçamento",
            "o plano de migração", "a entrega do cliente",
        ),
        ("lançamento", "marco", "sprint", "entrega"),
    ),
    "jobs_and_careers": (
        (
            "tenho entrevista de emprego {a} {when}, torce por mim",
            "recebi a proposta! o salário é bem melhor",
            "tô atualizando meu currículo, pode dar uma olhada?",
            "tão contratando {b} sênior, quer que eu te indique?",
            "minha chefe falou de uma promoção na próxima avaliação",
            "a segunda entrevista foi bem, agora é esperar o recrutador",
        ),
        ("numa startup", "no banco", "numa agência de design", "no hospital",
         "num estúdio de games"),
        ("engenheiro", "designer", "gerente de produto", "analista de dados", "enfermeiro"),
    ),
    "software_and_apps": (
        (
            "o app fica fechando sozinho desde a última atualização",
            "achei um bug na tela de login, a recuperação de senha não funciona",
            "já atualizou {a}? a versão nova mudou tudo",
            "meu código finalmente compilou, só levou a tarde inteira 😅",
            "o site caiu de novo, tá dando erro 500",
            "troquei a senha e {a} continua sem me deixar entrar",
        ),
        ("o app do banco", "o Photoshop", "o app de agenda", "o VS Code", "o WhatsApp Web"),
        ("iOS", "Android", "o navegador", "Windows"),
    ),
    "gadgets_and_devices": (
        (
            "a bateria do meu celular não chega nem na hora do almoço",
            "pensando em comprar {a}, alguma recomendação?",
            "esqueci o carregador do notebook no escritório 🤦",
            "testei {a} na loja, a tela é incrível",
            "meu fone parou de carregar, um dos lados morreu",
            "trinquei a tela do tablet de novo",
        ),
        (
            "um fone com cancelamento de ruído", "um smartwatch", "um notebook gamer", "um Kindle",
            "um celular novo", "um fone sem fio",
        ),
        ("cabo USB-C", "carregador portátil", "teclado", "monitor"),
    ),
    "money_and_payments": (
        (
            "paguei o aluguel, você me deve {a}",
            "me faz um pix da sua parte da conta?",
            "dividindo {b}, dá {a} pra cada um",
            "a conta de luz veio bem mais alta esse mês",
            "te mandei o pagamento, confere sua conta no banco",
            "esse mês a gente precisa segurar o orçamento 💸",
        ),
        ("R$ 80", "R$ 45", "€30", "$120", "R$ 1.500", "R$ 250"),
        ("a casa na praia", "o Uber", "a internet", "o carro alugado"),
    ),
    "family_and_friends": (
        (
            "minha mãe quer todo mundo lá em casa {when}",
            "minha irmã acabou de ter uma menina 👶",
            "as crianças têm apresentação na escola {when}, a vó vai",
            "faz séculos que a gente não se vê, bora marcar alguma coisa",
            "vou visitar meus pais {when}, volto na segunda",
            "meu irmão e a esposa vão ficar aqui em casa essa semana",
        ),
        ("o vô", "meus primos", "os vizinhos", "minha tia"),
        ("as crianças", "meus pais", "meus sogros"),
    ),
    "celebrations": (
        (
            "feliz aniversário {who}!! 🎂🎉",
            "que presente a gente dá pro casamento?",
            "festa lá em casa {when}, chama a galera",
            "feliz Natal e boas festas pra todos 🎄",
            "organizando uma festa surpresa pro aniversário de {who}, não conta pra ninguém",
            "parabéns pelo noivado!! quando é o casamento? 💍",
        ),
        ("aniversário", "bodas", "formatura"),
        ("bolo", "balões", "decoração"),
    ),
}

TOPIC_PHRASES_DE: TopicPhrases = {
    "food_and_dining": (
        (
            "hat jemand Lust auf {a} {when}?",
            "hab ein neues Rezept für {a} ausprobiert, war richtig lecker",
            "das Essen in dem Restaurant in der Innenstadt war viel zu salzig",
            "kannst du auf dem Heimweg {b} aus dem Supermarkt mitbringen?",
            "Abendessen bei mir {when}, ich koche {a}",
            "hab einen Tisch für vier im Restaurant reserviert, {when}",
            "ich hab so Hunger, bestellen wir {a} zum Mittagessen?",
        ),
        (
            "Ramen", "Lasagne", "Pad Thai", "Sushi 寿司", "Käsespätzle", "Flammkuchen", "Phở",
            "Döner", "Paella", "Maultaschen", "Shakshuka", "grünes Curry",
        ),
        ("Knoblauch", "Olivenöl", "Eier", "Basilikum", "Reis", "Hafermilch", "Brot", "Tomaten"),
    ),
    "travel": (
        (
            "unser Flug nach {a} geht {when}, vergiss den Reisepass nicht",
            "gerade in {a} gelandet ✈️ der Flughafen ist riesig",
            "das Hotel in {a} hat uns ein Zimmer mit Aussicht gegeben",
            "nehmen wir den Zug oder fliegen wir nach {a}?",
            "packe gerade den Koffer für die Reise nach {a}, wie kalt ist es da?",
            "Flug {b} verspätet, wir hängen am Gate fest",
            "Urlaubsfotos aus {a} kommen gleich 📸",
        ),
        (
            "Zürich", "São Paulo", "Krakau", "Reykjavík", "東京", "Lissabon", "Marrakesch",
            "Montréal", "Kyoto", "Kapstadt", "Dubrovnik", "Wien",
        ),
        ("um zwei Stunden", "schon wieder", "bis Mitternacht", "über Nacht"),
    ),
    "fitness_and_health": (
        (
            "war heute Morgen {a} laufen, meine Beine sind durch",
            "Fitnessstudio {when}? brauche jemanden fürs Beintraining",
            "der Arzt meint, ich soll mehr schlafen und weniger Kaffee trinken",
            "neuer Trainingsplan: dreimal die Woche {a}",
            "glaub, ich hab die Grippe, bleib im Bett und ruh mich aus",
            "mir tut {b} seit dem Training gestern weh",
            "Tag {n} der Diät, bisher kein Zucker 💪",
            "Yoga im Fitnessstudio {when}, kommst du mit?",
        ),
        ("5 km", "10 km", "Intervalle", "im Wald", "locker", "einen Halbmarathon"),
        ("das Knie", "der Rücken", "die Schulter", "der Knöchel", "das Handgelenk"),
    ),
    "shopping": (
        (
            "endlich geliefert: {a} 📦",
            "großer Sale im Einkaufszentrum {when}, alles 40% reduziert",
            "{a} jetzt kaufen oder warten, bis der Preis fällt? 🤔",
            "meine Onlinebestellung hängt seit Montag in der Zustellung fest",
            "{a} zurückgeschickt, der Laden hat mir alles erstattet",
            "{b} im Angebot gefunden, zum halben Preis 🛍️",
        ),
        (
            "Sneaker", "Winterjacke", "Sofa", "Rucksack", "Gummistiefel", "Schreibtischlampe",
            "Leinenhemd", "Couchtisch",
        ),
        ("eine Ledertasche", "neue Laufschuhe", "einen Wollmantel", "einen Teppich", "einen Spiegel"),
    ),
    "music": (
        (
            "schon das neue Album von {a} gehört? läuft bei mir in Dauerschleife",
            "hab Tickets für das Konzert von {a} {when} 🎶",
            "hab eine Playlist für den Roadtrip gemacht, hauptsächlich {b}",
            "der Song geht mir nicht mehr aus dem Kopf, der Refrain ist so eingängig",
            "die Band hat drei Stunden gespielt, bestes Konzert überhaupt",
            "lerne gerade {b} auf der Gitarre",
        ),
        ("Beyoncé", "Rosalía", "Kraftklub", "Daft Punk", "Helene Fischer", "Coldplay", "Björk",
         "Rammstein"),
        ("Jazz", "K-Pop", "Bossa Nova", "Indie-Rock", "Techno", "Synthpop aus den 80ern"),
    ),
    "movies_and_tv": (
        (
            "gerade Staffel {n} der Serie fertig geguckt, bitte keine Spoiler",
            "wollen wir {when} ins Kino, den neuen Film von {a} schauen?",
            "die letzte Folge endet mit einem krassen Cliffhanger 😱",
            "was streamen wir heute Abend? hab Lust auf {b}",
            "der Film war zu lang, aber das Ende war super",
            "hab die ganze Serie an einem Wochenende durchgeschaut",
        ),
        ("Miyazaki", "Almodóvar", "Nolan", "Marvel", "Pixar", "Fatih Akin"),
        ("eine Doku", "einen Horrorfilm", "eine Romcom", "einen Anime", "einen Krimi"),
    ),
    "gaming": (
        (
            "wer ist {when} online für ein Match? 🎮",
            "endlich den Endboss in {a} besiegt",
            "hänge bei Level {n} in {a} fest, hat jemand Tipps?",
            "meine Konsole stürzt mitten im Spiel ab",
            "der neue Patch für {a} hat meinen Lieblingscharakter generft",
            "Ranked lief furchtbar, wir haben jede Runde verloren",
        ),
        ("Zelda", "Elden Ring", "Minecraft", "Fortnite", "Mario Kart", "Hades"),
        ("Koop", "Splitscreen", "online", "Speedrun", "Ranked"),
    ),
    "sports": (
        (
            "hast du gestern das Spiel gesehen? was für ein Tor ⚽",
            "{a} hat 3:1 gewonnen, die Meisterschaft ist zum Greifen nah",
            "unsere Mannschaft hat schon wieder verloren, der Trainer muss weg",
            "Tickets für {b} {when}, wer ist dabei?",
            "der Spieler hat in der zweiten Halbzeit zweimal getroffen",
            "das Endergebnis war unglaublich, es ging in die Verlängerung",
        ),
        ("Bayern", "der BVB", "Union Berlin", "Werder", "der HSV", "Freiburg"),
        ("das Derby", "die Playoffs", "das Pokalfinale", "den Saisonauftakt"),
    ),
    "meetings_and_scheduling": (
        (
            "können wir das Meeting verschieben? {when} würde besser passen",
            "ich schick dir eine Kalendereinladung für den Call um {b}",
            "bin 10 Minuten zu spät zum Meeting, fangt ohne mich an",
            "lass uns den Termin fürs {a} verschieben, die Agenda steht noch nicht",
            "hast du {when} kurz Zeit für einen Call?",
            "das Protokoll und die Agenda liegen im geteilten Dokument",
        ),
        ("Standup", "Weekly", "1:1", "Planungsmeeting", "Retro"),
        ("9:30", "11:00", "14:15", "16 Uhr", "12 Uhr"),
    ),
    "projects_and_deadlines": (
        (
            "die Deadline für {a} ist {when} und wir hängen hinterher",
            "Release verschoben, jetzt {when}, QA hat Blocker gefunden",
            "kannst du dir {a} vor der Deadline anschauen?",
            "Taskboard ist aktualisiert, noch drei Deliverables in diesem Sprint",
            "wir haben {a} pünktlich abgegeben 🎉 super Arbeit, Team",
            "der Meilenstein hat sich schon wieder verschoben, wir müssen Aufgaben priorisieren",
        ),
        (
            "den Quartalsbericht", "die Mockups", "das Projektangebot", "den Budgetentwurf",
            "den Migrationsplan", "die Kundenlieferung",
        ),
        ("Release", "Meilenstein", "Sprint", "Launch"),
    ),
    "jobs_and_careers": (
        (
            "hab {when} ein Vorstellungsgespräch bei {a}, drück mir die Daumen",
            "hab das Angebot bekommen! das Gehalt ist viel besser",
            "ich überarbeite gerade meinen Lebenslauf, kannst du mal drüberschauen?",
            "die suchen gerade Senior {b}, soll ich dich empfehlen?",
            "meine Chefin hat beim Mitarbeitergespräch eine Beförderung erwähnt",
            "das zweite Vorstellungsgespräch lief gut, jetzt warte ich auf die Recruiterin",
        ),
        ("einem Startup", "der Bank", "einer Designagentur", "dem Krankenhaus",
         "einem Spielestudio"),
        ("Entwickler", "Designer", "Produktmanager", "Datenanalysten", "Pflegekräfte"),
    ),
    "software_and_apps": (
        (
            "die App stürzt seit dem letzten Update ständig ab",
            "Bug auf der Login-Seite gefunden, Passwort zurücksetzen geht nicht",
            "hast du schon die neue Version von {a} installiert?",
            "mein Code kompiliert endlich, hat nur den ganzen Nachmittag gedauert 😅",
            "die Website ist schon wieder down, ich krieg einen 500er Fehler",
            "hab mein Passwort zurückgesetzt und komm trotzdem nicht in {a} rein",
        ),
        ("Photoshop", "VS Code", "Slack", "Outlook", "Notion"),
        ("iOS", "Android", "dem Browser", "Windows"),
    ),
    "gadgets_and_devices": (
        (
            "mein Handyakku ist schon mittags leer",
            "überlege, mir {a} zu kaufen, irgendwelche Empfehlungen?",
            "hab mein Laptop-Ladekabel im Büro liegen lassen 🤦",
            "hab mir im Laden {a} angeschaut, der Bildschirm ist der Wahnsinn",
            "meine Kopfhörer laden nicht mehr, ein Earbud ist tot",
            "schon wieder das Display vom Tablet zerbrochen",
        ),
        (
            "Noise-Cancelling-Kopfhörer", "eine Smartwatch", "einen Gaming-Laptop", "einen E-Reader",
            "ein neues Handy", "kabellose Earbuds",
        ),
        ("USB-C-Kabel", "Powerbank", "Tastatur", "Monitor"),
    ),
    "money_and_payments": (
        (
            "hab die Miete überwiesen, du schuldest mir {a}",
            "kannst du mir deinen Anteil an der Rechnung überweisen?",
            "wir teilen die Kosten für {b}, macht {a} pro Person",
            "die Stromrechnung ist diesen Monat viel höher",
            "hab dir das Geld geschickt, schau mal auf dein Konto",
            "diesen Monat müssen wir uns ans Budget halten 💸",
        ),
        ("45 €", "120 $", "30 £", "3.000 ¥", "80 R$", "1.500 ₹"),
        ("die Hütte", "das Taxi", "das Internet", "den Mietwagen"),
    ),
    "family_and_friends": (
        (
            "Mama will, dass alle {when} vorbeikommen",
            "meine Schwester hat gerade ein Mädchen bekommen 👶",
            "die Kinder haben {when} eine Schulaufführung, Oma kommt auch",
            "hab dich ewig nicht gesehen, lass uns bald mal treffen",
            "bin {when} bei meinen Eltern, Montag bin ich zurück",
            "mein Bruder und seine Frau wohnen diese Woche bei uns",
        ),
        ("Opa", "meine Cousins", "die Nachbarn", "meine Tante"),
        ("die Kinder", "meine Eltern", "meine Schwiegereltern"),
    ),
    "celebrations": (
        (
            "alles Gute zum Geburtstag {who}!! 🎂🎉",
            "was schenken wir zur Hochzeit?",
            "Party bei uns {when}, bringt Freunde mit",
            "frohe Weihnachten und schöne Feiertage euch allen 🎄",
            "wir planen eine Überraschungsparty zum Geburtstag von {who}, nichts verraten",
            "Glückwunsch zur Verlobung!! wann ist die Hochzeit? 💍",
        ),
        ("Geburtstag", "Jahrestag", "Abschlussfeier"),
        ("Kuchen", "Luftballons", "Deko"),
    ),
}

TOPIC_PHRASES_FR: TopicPhrases = {
    "food_and_dining": (
        (
            "envie de {a} {when}, quelqu'un est partant ?",
            "j'ai testé une nouvelle recette de {a}, c'était trop bon",
            "le plat du resto du centre était beaucoup trop salé",
            "tu peux passer au supermarché prendre {b} ?",
            "dîner chez moi {when}, au menu : {a}",
            "j'ai réservé une table pour quatre au restaurant {when}",
            "j'ai trop faim, on se commande un truc pour le déjeuner ? genre {a}",
        ),
        (
            "ramen", "lasagnes", "pad thaï", "sushis 寿司", "crème brûlée", "raclette", "phở",
            "crêpes", "paella", "couscous", "curry vert", "tartiflette",
        ),
        ("de l'ail", "de l'huile d'olive", "des œufs", "du basilic", "du riz", "du lait d'avoine",
         "de la coriandre", "du pain"),
    ),
    "travel": (
        (
            "notre vol pour {a} part {when}, oublie pas ton passeport",
            "je viens d'atterrir à {a} ✈️ l'aéroport est immense",
            "l'hôtel à {a} nous a surclassés, chambre avec vue",
            "on va à {a} en train ou en avion ?",
            "je fais ma valise pour le voyage à {a}, il fait froid là-bas ?",
            "vol retardé {b}, on est coincés à la porte d'embarquement",
            "les photos des vacances à {a} arrivent bientôt 📸",
        ),
        (
            "Zurich", "São Paulo", "Cracovie", "Reykjavik", "東京", "Lisbonne", "Marrakech",
            "Montréal", "Kyoto", "Dakar", "Dubrovnik", "Oaxaca",
        ),
        ("de deux heures", "encore une fois", "jusqu'à minuit", "toute la nuit"),
    ),
    "fitness_and_health": (
        (
            "je suis allé courir {a} ce matin, j'ai mal aux jambes",
            "salle de sport {when} ? j'ai besoin de quelqu'un pour la séance jambes",
            "le médecin dit que je dois dormir plus et boire moins de café",
            "nouveau programme d'entraînement : {a} trois fois par semaine",
            "je crois que j'ai attrapé la grippe, je reste au lit",
            "j'ai mal {b} depuis la séance d'hier",
            "jour {n} du régime, toujours zéro sucre 💪",
            "cours de yoga à la salle {when}, tu viens ?",
        ),
        ("5 km", "10 km", "du fractionné", "en forêt", "tranquille", "un semi-marathon"),
        ("au genou", "au dos", "à l'épaule", "à la cheville", "au poignet"),
    ),
    "shopping": (
        (
            "j'ai enfin reçu {a} que j'avais commandé",
            "grosses soldes au centre commercial {when}, tout à -40%",
            "j'achète {a} maintenant ou j'attends que le prix baisse ?",
            "ma commande en ligne est bloquée en livraison depuis lundi",
            "j'ai rendu {a}, le magasin m'a tout remboursé",
            "trouvé {b} en promo à moitié prix 🛍️",
        ),
        (
            "les baskets", "la veste d'hiver", "le canapé", "le sac à dos", "les bottes de pluie",
            "la lampe de bureau", "la chemise en lin", "la table basse",
        ),
        ("un sac en cuir", "des chaussures de course", "un manteau en laine", "un tapis",
         "un miroir"),
    ),
    "music": (
        (
            "t'as écouté le nouvel album de {a} ? je l'écoute en boucle",
            "j'ai des places pour le concert de {a} {when} 🎶",
            "j'ai fait une playlist pour le road trip, surtout du {b}",
            "cette chanson me reste dans la tête, le refrain est trop entêtant",
            "le groupe a joué trois heures, meilleur concert de ma vie",
            "j'apprends des morceaux de {b} à la guitare",
        ),
        ("Beyoncé", "Angèle", "Aya Nakamura", "Daft Punk", "Christine and the Queens", "Coldplay",
         "Björk", "Stromae"),
        ("jazz", "rap", "bossa nova", "rock indé", "lo-fi", "électro"),
    ),
    "movies_and_tv": (
        (
            "je viens de finir la saison {n} de cette série, pas de spoilers svp",
            "on va voir le nouveau film de {a} au cinéma {when} ?",
            "le dernier épisode se termine sur un énorme cliffhanger 😱",
            "on regarde quoi ce soir ? j'ai envie d'{b}",
            "le film était trop long mais la fin était géniale",
            "j'ai regardé toute la série en un week-end",
        ),
        ("Miyazaki", "Almodóvar", "Nolan", "Marvel", "Pixar", "Céline Sciamma"),
        ("un documentaire", "un film d'horreur", "une comédie romantique", "un anime", "un polar"),
    ),
    "gaming": (
        (
            "qui est co {when} pour une partie en ligne ? 🎮",
            "j'ai enfin battu le boss final de {a}",
            "bloqué au niveau {n} de {a}, des astuces ?",
            "ma console plante en plein milieu de la partie",
            "le nouveau patch de {a} a nerfé mon perso préféré",
            "les parties classées se sont super mal passées, on a perdu toutes les manches",
        ),
        ("Zelda", "Elden Ring", "Minecraft", "Fortnite", "Mario Kart", "Hades"),
        ("coop", "écran partagé", "en ligne", "speedrun", "classé"),
    ),
    "sports": (
        (
            "t'as vu le match hier soir ? quel but ⚽",
            "{a} a gagné 3-1, le titre est à portée de main",
            "notre équipe a encore perdu, faut virer l'entraîneur",
            "des places pour {b} {when}, qui vient ?",
            "ce joueur a marqué deux fois en deuxième mi-temps",
            "le score final était incroyable, ça s'est joué aux prolongations",
        ),
        ("le PSG", "l'OM", "Lyon", "le Stade Toulousain", "Lens", "le Real"),
        ("le derby", "les playoffs", "la finale de la coupe", "le match d'ouverture"),
    ),
    "meetings_and_scheduling": (
        (
            "on peut décaler la réunion ? {when} ce serait mieux",
            "je t'envoie une invitation dans l'agenda pour l'appel à {b}",
            "j'ai 10 minutes de retard pour la réunion, commencez sans moi",
            "on reporte {a}, l'ordre du jour n'est pas prêt",
            "t'es dispo pour un appel rapide {when} ?",
            "le compte rendu et l'ordre du jour de la réunion sont dans le doc partagé",
        ),
        ("le stand-up", "le point hebdo", "le 1:1", "la réunion de planning", "la rétro"),
        ("9h30", "11h", "14h15", "16h", "midi"),
    ),
    "projects_and_deadlines": (
        (
            "la deadline pour {a} c'est {when} et on est en retard",
            "on a repoussé la mise en prod, la QA a trouvé des bloquants",
            "tu peux relire {a} avant la deadline ?",
            "le tableau des tâches est à jour, encore trois livrables dans ce sprint",
            "on a livré {a} dans les temps 🎉 bravo l'équipe",
            "le jalon a encore glissé, il faut prioriser les tâches",
        ),
        (
            "le rapport trimestriel", "les maquettes", "la proposition de projet",
            "le budget prévisionnel", "le plan de migration", "le livrable client",
        ),
        ("mise en prod", "jalon", "sprint", "lancement"),
    ),
    "jobs_and_careers": (
        (
            "j'ai un entretien d'embauche {a} {when}, croise les doigts",
            "j'ai eu l'offre ! le salaire est bien meilleur",
            "je mets à jour mon CV, tu peux jeter un œil ?",
            "ils recrutent un {b} senior, tu veux que je te recommande ?",
            "ma manager a parlé d'une promotion au prochain entretien annuel",
            "le deuxième entretien s'est bien passé, j'attends la recruteuse",
        ),
        ("dans une startup", "à la banque", "dans une agence de design", "à l'hôpital",
         "dans un studio de jeux vidéo"),
        ("ingénieur", "designer", "chef de produit", "data analyst", "infirmier"),
    ),
    "software_and_apps": (
        (
            "l'appli plante sans arrêt depuis la dernière mise à jour",
            "j'ai trouvé un bug sur la page de connexion, la réinitialisation du mot de passe marche pas",
            "t'as installé la nouvelle version de {a} ?",
            "mon code compile enfin, ça m'a pris tout l'aprèm 😅",
            "le site est encore en panne, j'ai une erreur 500",
            "j'ai réinitialisé mon mot de passe et je peux toujours pas me connecter à {a}",
        ),
        ("Photoshop", "VS Code", "Slack", "Outlook", "Notion"),
        ("iOS", "Android", "le navigateur", "Windows"),
    ),
    "gadgets_and_devices": (
        (
            "la batterie de mon téléphone est à plat dès midi",
            "je pense acheter {a}, des conseils ?",
            "j'ai oublié le chargeur de mon ordi au bureau 🤦",
            "j'ai essayé {a} en magasin, l'écran est incroyable",
            "mes écouteurs ne chargent plus, y en a un qui est mort",
            "j'ai encore fissuré l'écran de ma tablette",
        ),
        (
            "un casque à réduction de bruit", "une montre connectée", "un PC portable gamer",
            "une liseuse", "un nouveau téléphone", "des écouteurs sans fil",
        ),
        ("câble USB-C", "batterie externe", "clavier", "écran"),
    ),
    "money_and_payments": (
        (
            "j'ai payé le loyer, tu me dois {a}",
            "tu peux me virer ta part de l'addition ?",
            "on partage {b}, ça fait {a} chacun",
            "la facture d'électricité est beaucoup plus élevée ce mois-ci",
            "je t'ai envoyé le paiement, regarde ton compte en banque",
            "faut qu'on tienne le budget ce mois-ci 💸",
        ),
        ("45 €", "120 $", "30 £", "3 000 ¥", "80 R$", "1 500 ₹"),
        ("le gîte", "le taxi", "la facture internet", "la location de voiture"),
    ),
    "family_and_friends": (
        (
            "maman veut que tout le monde vienne {when}",
            "ma sœur vient d'avoir une petite fille 👶",
            "les enfants ont un spectacle à l'école {when}, mamie vient",
            "ça fait une éternité, on se voit bientôt ?",
            "je vais chez mes parents {when}, je rentre lundi",
            "mon frère et sa femme dorment chez nous cette semaine",
        ),
        ("papi", "mes cousins", "les voisins", "ma tante"),
        ("les enfants", "mes parents", "ma belle-famille"),
    ),
    "celebrations": (
        (
            "joyeux anniversaire {who} !! 🎂🎉",
            "on offre quoi comme cadeau pour le mariage ?",
            "soirée chez nous {when}, ramenez des amis",
            "joyeux Noël et bonnes fêtes à tous 🎄",
            "on prépare une fête surprise pour l'anniversaire de {who}, chut",
            "félicitations pour les fiançailles !! c'est quand le mariage ? 💍",
        ),
        ("anniversaire", "anniversaire de mariage", "remise de diplômes"),
        ("gâteau", "ballons", "déco"),
    ),
}


@dataclass(frozen=True)
class Vocabulary:
    """Everything a message is written from, in one language."""

    topics: TopicPhrases
    small_talk: tuple[str, ...]
    when: tuple[str, ...]
    prefixes: tuple[str, ...]
    suffixes: tuple[str, ...]
    captions: tuple[str, ...]


VOCABULARIES: dict[str, Vocabulary] = {
    "en": Vocabulary(TOPIC_PHRASES, SMALL_TALK, WHEN, PREFIXES, SUFFIXES, CAPTIONS),
    "es": Vocabulary(
        TOPIC_PHRASES_ES,
        small_talk=(
            "vale", "ok", "jajaja", "jaja", "sí", "no pasa nada", "¡gracias!", "buenos días ☀️",
            "buenas noches", "nos vemos", "claro", "voy de camino", "¿dónde estás?",
            "llámame cuando puedas", "👍", "😂😂", "qué bien", "de acuerdo", "ya voy",
            "ahora te escribo", "¿a qué hora?", "me parece bien", "vale, perfecto", "qué fuerte",
            "yo también", "espera, ¿qué?", "🔥🔥", "no te preocupes", "un abrazo", "tranqui",
        ),
        when=("mañana", "esta noche", "el viernes", "este finde", "la semana que viene",
              "el domingo por la mañana", "después del trabajo", "más tarde"),
        prefixes=("oye ", "por cierto ", "bueno ", "a ver ", "¡Hola! ", "jo ", "ojo ", "uf "),
        suffixes=(" 😂", " 👍", " 🙏", "!!", " 🎉", " jaja", " ❤️", " 😅", " 🤔", " 😊"),
        captions=("mira esto", "📷", "aquí lo tienes", "de ayer", "😍"),
    ),
    "pt": Vocabulary(
        TOPIC_PHRASES_PT,
        small_talk=(
            "ok", "blz", "kkkkk", "kkk", "sim", "tranquilo", "valeu!", "bom dia ☀️", "boa noite",
            "até mais", "claro", "tô indo", "cadê você?", "me liga quando puder", "👍", "😂😂",
            "tudo bem?", "beleza", "já volto", "que horas?", "fechado", "nossa",
            "mal posso esperar", "eu também", "pera, o quê?", "🔥🔥", "de boa", "obrigada 😊",
            "rsrs", "show!",
        ),
        when=("amanhã", "hoje à noite", "na sexta", "nesse fim de semana", "semana que vem",
              "domingo de manhã", "depois do trabalho", "mais tarde"),
        prefixes=("oi ", "aliás ", "então ", "olha ", "Oi! ", "gente ", "ah ", "putz "),
        suffixes=(" 😂", " 👍", " 🙏", "!!", " 🎉", " kkk", " ❤️", " 😅", " 🤔", " 😊"),
        captions=("olha isso", "📷", "aqui ó", "de ontem", "😍"),
    ),
    "de": Vocabulary(
        TOPIC_PHRASES_DE,
        small_talk=(
            "ok", "okay", "haha", "hahaha", "👍", "😂😂", "ja", "kein Problem", "danke!",
            "guten Morgen ☀️", "gute Nacht", "bis dann", "klar", "bin unterwegs", "wo bist du?",
            "ruf mich an, wenn du kannst", "alles klar", "passt", "um wie viel Uhr?",
            "klingt gut", "super!", "krass", "freu mich schon", "geht mir genauso", "warte, was?",
            "🔥🔥", "danke schön", "bis später", "na klar", "mach ich",
        ),
        when=("morgen", "heute Abend", "am Freitag", "am Wochenende", "nächste Woche",
              "am Sonntagvormittag", "nach der Arbeit", "später"),
        prefixes=("hey ", "übrigens ", "also ", "ok also ", "Hallo! ", "boah ", "kurze Info: ",
                  "ach "),
        suffixes=(" 😂", " 👍", " 🙏", "!!", " 🎉", " haha", " ❤️", " 😅", " 🤔", " 😊"),
        captions=("schau mal", "📷", "hier bitte", "von gestern", "😍"),
    ),
    "fr": Vocabulary(
        TOPIC_PHRASES_FR,
        small_talk=(
            "ok", "d'accord", "mdr", "ptdr", "oui", "pas de souci", "merci !", "bonjour ☀️",
            "bonne nuit", "à plus", "bien sûr", "j'arrive", "t'es où ?",
            "appelle-moi quand tu peux", "👍", "😂😂", "❤️", "carrément", "grave", "ça marche",
            "à quelle heure ?", "trop bien !", "j'ai hâte", "pareil", "attends, quoi ?", "🔥🔥",
            "merci beaucoup", "à tout à l'heure", "bisous", "ouais",
        ),
        when=("demain", "ce soir", "vendredi", "ce week-end", "la semaine prochaine",
              "dimanche matin", "après le boulot", "plus tard"),
        prefixes=("coucou ", "au fait ", "bon ", "bref ", "Salut ! ", "oh là ", "pour info ",
                  "pff "),
        suffixes=(" 😂", " 👍", " 🙏", "!!", " 🎉", " mdr", " ❤️", " 😅", " 🤔", " 😊"),
        captions=("regarde ça", "📷", "voilà", "d'hier", "😍"),
    ),
}
# The languages messages are written in and their weights (percent of conversations). The
# order is the order of the flattened lookup arrays below: English first, so that an English
# message is the same pick from the same positions as before there were other languages.
LANGUAGE_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("en", 60), ("es", 15), ("pt", 10), ("de", 8), ("fr", 7),
)
LANGUAGES: tuple[str, ...] = tuple(code for code, _ in LANGUAGE_WEIGHTS)
assert set(LANGUAGES) == set(VOCABULARIES), "a vocabulary for every weighted language"
assert all(tuple(VOCABULARIES[code].topics) == TOPIC_NAMES for code in LANGUAGES), \
    "every language covers every topic, in the order of schemas/topics.py"


def _offsets(sizes: list[int]) -> list[int]:
    offsets, total = [], 0
    for size in sizes:
        offsets.append(total)
        total += size
    return offsets


@dataclass(frozen=True)
class _Flat:
    """Lists of strings, one per group, flattened into one lookup array (Spark looks up one
    literal array instead of choosing among many)."""

    values: tuple[str, ...]
    counts: tuple[int, ...]

    @classmethod
    def of(cls, groups: Sequence[Sequence[str]]) -> _Flat:
        return cls(tuple(v for group in groups for v in group), tuple(len(g) for g in groups))

    def pick(self, group: Column, uniform: Column) -> Column:
        """The element of group `group` (0-based) at the position `uniform` in [0, 1) falls on."""
        return F.element_at(literal_array(self.values), _in_group(list(self.counts), group, uniform))


def _topic_groups(part: int) -> list[tuple[str, ...]]:
    """Per (language, topic), language-major: group = language * topics + topic."""
    return [VOCABULARIES[code].topics[topic][part] for code in LANGUAGES for topic in TOPIC_NAMES]


_TEMPLATES = _Flat.of(_topic_groups(0))
_A_WORDS = _Flat.of(_topic_groups(1))
_B_WORDS = _Flat.of(_topic_groups(2))
_SMALL_TALK = _Flat.of([VOCABULARIES[code].small_talk for code in LANGUAGES])
_WHEN = _Flat.of([VOCABULARIES[code].when for code in LANGUAGES])
_PREFIXES = _Flat.of([VOCABULARIES[code].prefixes for code in LANGUAGES])
_SUFFIXES = _Flat.of([VOCABULARIES[code].suffixes for code in LANGUAGES])
_CAPTIONS = _Flat.of([VOCABULARIES[code].captions for code in LANGUAGES])


def _sql_literal(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@functools.lru_cache(maxsize=256)
def _literal_array(values: tuple[str | int, ...]) -> Column:
    # One parsed expression instead of one Python-to-JVM call per element: the generator
    # uses lookup tables of a thousand entries and more.
    return F.expr(f"array({', '.join(_sql_literal(v) for v in values)})")


def literal_array(values: Sequence[str] | Sequence[int]) -> Column:
    return _literal_array(tuple(values))


def pick(values: Sequence[str], uniform: Column) -> Column:
    """The element of `values` at the position `uniform` in [0, 1) falls on."""
    index = F.least(F.floor(uniform * len(values)), F.lit(len(values) - 1)).cast("int") + 1
    return F.element_at(literal_array(values), index)


def _in_group(counts: list[int], group: Column, uniform: Column) -> Column:
    """1-based index into a flattened per-group list: the group's offset plus a pick within
    (for group 0 the same index as `pick` over that group alone)."""
    position = (group + 1).cast("int")
    offset = F.element_at(literal_array(_offsets(counts)), position)
    count = F.element_at(literal_array(counts), position)
    return (offset + F.least(F.floor(uniform * count), count - 1) + 1).cast("int")


def topic_sentence(language: Column, topic: Column, u_template: Column, u_a: Column,
                   u_b: Column, u_when: Column, u_who: Column, u_n: Column) -> Column:
    """A sentence about `topic` (0-based index into TOPIC_NAMES) in `language` (0-based index
    into LANGUAGES), placeholders filled."""
    group = language * len(TOPIC_NAMES) + topic
    filled = F.replace(_TEMPLATES.pick(group, u_template), F.lit("{a}"), _A_WORDS.pick(group, u_a))
    filled = F.replace(filled, F.lit("{b}"), _B_WORDS.pick(group, u_b))
    filled = F.replace(filled, F.lit("{when}"), _WHEN.pick(language, u_when))
    filled = F.replace(filled, F.lit("{who}"), pick(WHO, u_who))
    return F.replace(filled, F.lit("{n}"), (F.floor(u_n * 8) + 2).cast("string"))


def small_talk(language: Column, uniform: Column) -> Column:
    return _SMALL_TALK.pick(language, uniform)


def prefix(language: Column, uniform: Column) -> Column:
    return _PREFIXES.pick(language, uniform)


def suffix(language: Column, uniform: Column) -> Column:
    return _SUFFIXES.pick(language, uniform)


def caption(language: Column, uniform: Column) -> Column:
    return _CAPTIONS.pick(language, uniform)
