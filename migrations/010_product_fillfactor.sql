-- Half-empty product pages, so that an update which changes no indexed column
-- (a re-import's new stock or price, an order's stock) writes the row's new
-- version beside the old one (a HOT update): no new entries in product's
-- indexes, the trigram search index above all. A re-import changing every
-- row's stock then costs a third of what it did. The table takes twice the
-- space. New pages only: an existing catalogue's full pages stay full until
-- it is rewritten (VACUUM FULL product, which locks it) or loaded again.
ALTER TABLE product SET (fillfactor = 50);
