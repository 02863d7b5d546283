CREATE TABLE visits(id INTEGER PRIMARY KEY, note TEXT, clinic);
