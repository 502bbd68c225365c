-- The language a staff member chose for the staff pages (en, nl, fr, de);
-- empty follows the browser's Accept-Language.
ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
